import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";
import type { Logger } from "../logger";

const SAFE_ID = /^[A-Za-z0-9._:-]{1,100}$/;
const QUIET = new Set(["/healthz", "/readyz", "/metrics"]);

declare module "express-serve-static-core" {
  interface Request {
    /** The request id (kept from a proxy's X-Request-Id when sane), also answered as X-Request-Id. */
    id: string;
  }
}

/**
 * Request id and one JSON log line per request (`request completed`, or `request failed with
 * 5xx`, `request aborted`); errors logged elsewhere carry `reqId`. Lean on purpose: it runs for
 * every webhook, so no per-request child logger, and nothing is built for a level that is off.
 */
export function requestLogger(log: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers["x-request-id"];
    const id = typeof incoming === "string" && SAFE_ID.test(incoming) ? incoming : randomUUID();
    req.id = id;
    res.setHeader("x-request-id", id);
    if (QUIET.has(req.path)) return next();
    const started = process.hrtime.bigint();
    const line = (level: "info" | "warn" | "error", msg: string) => {
      if (!log.isLevelEnabled(level)) return;
      const responseTime = Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
      log[level]({ req: { id, method: req.method, url: redactAccess(req.originalUrl) }, res: { statusCode: res.statusCode }, responseTime }, msg);
    };
    // One listener: a response emits "close" after "finish" too, or alone when it was cut off.
    res.once("close", () => {
      if (!res.writableFinished) return line("warn", "request aborted");
      const status = res.statusCode;
      line(status >= 500 ? "error" : status >= 400 ? "warn" : "info", status >= 500 ? `request failed with ${status}` : "request completed");
    });
    next();
  };
}

/** Link tokens ride in the query string (media elements send no headers): keep them out of logs. */
const redactAccess = (url: string) => url.replace(/([?&]access=)[^&]*/g, "$1[redacted]");
