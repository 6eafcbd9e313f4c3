import { randomUUID } from "node:crypto";
import type { Request, RequestHandler, Response } from "express";
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
 * 5xx`, `request aborted`); errors logged elsewhere carry `reqId`. `finished` gets every request
 * that was answered (health checks too), with its duration: the metrics' timer. Lean on purpose:
 * it runs for every webhook, so one middleware and one listener serve both, no per-request child
 * logger, and nothing is built for a level that is off.
 */
export function requestLogger(log: Logger, finished?: (req: Request, res: Response, seconds: number) => void): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers["x-request-id"];
    const id = typeof incoming === "string" && SAFE_ID.test(incoming) ? incoming : randomUUID();
    req.id = id;
    res.setHeader("x-request-id", id);
    const quiet = QUIET.has(req.path);
    if (quiet && !finished) return next();
    const started = performance.now();
    const line = (level: "info" | "warn" | "error", msg: string, ms: number) => {
      if (quiet || !log.isLevelEnabled(level)) return;
      log[level]({ req: { id, method: req.method, url: redactAccess(req.originalUrl) }, res: { statusCode: res.statusCode }, responseTime: Math.round(ms * 10) / 10 }, msg);
    };
    // A response emits "close" after "finish" too, or alone when it was cut off.
    res.once("close", () => {
      const ms = performance.now() - started;
      if (!res.writableFinished) return line("warn", "request aborted", ms);
      finished?.(req, res, ms / 1000);
      const status = res.statusCode;
      line(status >= 500 ? "error" : status >= 400 ? "warn" : "info", status >= 500 ? `request failed with ${status}` : "request completed", ms);
    });
    next();
  };
}

/** Link tokens ride in the query string (media elements send no headers): keep them out of logs. */
const redactAccess = (url: string) => url.replace(/([?&]access=)[^&]*/g, "$1[redacted]");
