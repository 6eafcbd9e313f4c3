/**
 * Errors carry a code; the code alone decides the HTTP status (see httpStatusOf).
 * Services throw AppError with a code, never HTTP errors.
 */
export type ErrorCode =
  | "bad_request"
  | "validation_failed"
  | "malformed_json"
  | "unauthenticated"
  | "invalid_credentials"
  | "forbidden"
  | "bad_signature"
  | "not_found"
  | "conflict"
  | "unprocessable"
  | "payload_too_large"
  | "unsupported_media_type"
  | "rate_limited"
  | "account_locked"
  | "provider_not_configured"
  | "bad_gateway"
  | "range_not_satisfiable"
  | "unavailable"
  | "internal";

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "AppError";
  }
}

function assertUnreachable(x: never): never {
  throw new Error(`unmapped error code ${String(x)}`);
}

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case "bad_request":
    case "validation_failed":
    case "malformed_json":
      return 400;
    case "unauthenticated":
    case "invalid_credentials":
      return 401;
    case "forbidden":
    case "bad_signature":
      return 403;
    case "not_found":
      return 404;
    case "conflict":
      return 409;
    case "payload_too_large":
      return 413;
    case "unsupported_media_type":
      return 415;
    case "range_not_satisfiable":
      return 416;
    case "unprocessable":
      return 422;
    case "rate_limited":
      return 429;
    case "account_locked":
      return 423;
    case "internal":
      return 500;
    case "bad_gateway":
      return 502;
    case "provider_not_configured":
    case "unavailable":
      return 503;
    default:
      return assertUnreachable(code);
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
