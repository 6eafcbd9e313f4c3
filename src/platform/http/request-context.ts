import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pinoHttp } from "pino-http";
import type { Logger } from "../logger";

const SAFE_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** Request id (kept from a proxy's X-Request-Id when sane) and one JSON log line per request. */
export function requestLogger(log: Logger) {
  return pinoHttp({
    logger: log,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const incoming = req.headers["x-request-id"];
      const id = typeof incoming === "string" && SAFE_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader("x-request-id", id);
      return id;
    },
    autoLogging: { ignore: (req) => req.url === "/healthz" || req.url === "/metrics" || req.url === "/readyz" },
    // pino-http invents an Error with a stack for every 5xx; the error handler already logged
    // the real cause, so keep the request line short.
    customErrorObject: (_req, res, _err, val) => ({ ...val, err: undefined, statusCode: res.statusCode }),
    customErrorMessage: (_req, res) => `request failed with ${res.statusCode}`,
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "warn" : "info"),
    wrapSerializers: false,
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: redactAccess(req.url) }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}

/** Link tokens ride in the query string (media elements send no headers): keep them out of logs. */
const redactAccess = (url: string) => url.replace(/([?&]access=)[^&]*/g, "$1[redacted]");
