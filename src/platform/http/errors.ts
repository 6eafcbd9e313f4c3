import type { ErrorRequestHandler, RequestHandler } from "express";
import { ZodError } from "zod";
import { AppError, httpStatusOf, type ErrorCode } from "../errors";
import type { Logger } from "../logger";

interface BodyParserError extends Error {
  type?: string;
  status?: number;
}

function fromBodyParser(err: BodyParserError): AppError | undefined {
  switch (err.type) {
    case "entity.parse.failed":
      return new AppError("malformed_json", "The request body is not valid JSON");
    case "entity.too.large":
      return new AppError("payload_too_large", "The request body is too large");
    case "encoding.unsupported":
    case "charset.unsupported":
      return new AppError("unsupported_media_type", err.message);
    case "parameters.too.many":
      return new AppError("payload_too_large", "Too many form parameters");
    default:
      return err.status && err.status >= 400 && err.status < 500 ? new AppError("bad_request", err.message) : undefined;
  }
}

/**
 * The database or Redis being unreachable is a temporary condition, not a bug: answer 503 so
 * providers retry (Twilio with connection overrides, Standard Webhooks senders by default).
 */
const UNAVAILABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "57P01", "57P02", "57P03", "08000", "08001", "08003", "08006", "53300"]);
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Connection is closed|the database system is (starting up|shutting down)/i;

/**
 * PostgreSQL refusing a value a client sent (a NUL character in text, a value too large for an
 * index): the input's fault, answered 400 like any invalid input (the statement rolled back).
 */
const INVALID_VALUE_CODES = new Set(["22021", "22P05", "22001", "54000"]);

function pgCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | undefined;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === "string" ? code : undefined;
}

function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; driverError?: unknown } | undefined;
  if (!e) return false;
  if (typeof e.code === "string" && UNAVAILABLE_CODES.has(e.code)) return true;
  if (typeof e.message === "string" && UNAVAILABLE_MESSAGES.test(e.message)) return true;
  return e.driverError !== undefined && e.driverError !== err && isUnavailable(e.driverError);
}

export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isUnavailable(err)) return new AppError("unavailable", "Temporarily unavailable; retry later", undefined, { cause: err });
  const code = pgCode(err);
  if (code && INVALID_VALUE_CODES.has(code)) return new AppError("validation_failed", "A value cannot be stored as sent (a NUL character, or too long)", undefined, { cause: err });
  if (err instanceof ZodError) {
    const issues = err.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    const first = issues[0];
    return new AppError("validation_failed", first ? `${first.path || "body"}: ${first.message}` : "Invalid input", issues);
  }
  if (err instanceof Error) {
    const fromParser = fromBodyParser(err as BodyParserError);
    if (fromParser) return fromParser;
  }
  return new AppError("internal", "Internal server error", undefined, { cause: err });
}

function sendError(res: Parameters<RequestHandler>[1], code: ErrorCode, message: string, details?: unknown): void {
  const requestId = res.getHeader("x-request-id");
  res.status(httpStatusOf(code)).json({ error: { code, message, ...(details ? { details } : {}), ...(requestId ? { requestId } : {}) } });
}

/** The one place an error becomes an HTTP answer: `{ error: { code, message } }`, never a stack. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appError = toAppError(err);
    if (appError.code === "internal") {
      log.error({ err, reqId: req.id }, "unhandled error");
    } else if (appError.code === "unavailable") {
      log.warn({ err: (err as Error).message, reqId: req.id }, "dependency unavailable");
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, appError.code, appError.message, appError.details);
  };
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(res, "not_found", `No route for ${req.method} ${req.path}`);
};
