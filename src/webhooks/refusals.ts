import type { ErrorRequestHandler } from "express";
import { toAppError } from "../platform/http/errors";

/** Counts refused deliveries by reason, then lets the central error handler answer. */
export function countRefusals(count: (r: { path: string; result: string }) => void): ErrorRequestHandler {
  return (err, req, _res, next) => {
    const code = toAppError(err).code;
    const result =
      code === "bad_signature" ? "rejected" : code === "unavailable" || code === "provider_not_configured" ? "unavailable" : code === "internal" ? "error" : "invalid";
    count({ path: req.path, result });
    next(err);
  };
}
