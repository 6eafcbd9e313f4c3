import type { Request } from "express";
import { AppError } from "../platform/errors";

/** The JSON of a signed webhook, read from the exact bytes the signature was checked over. */
export function signedJson(req: Request, raw: Buffer): unknown {
  if (!req.is("application/json")) throw new AppError("unsupported_media_type", "Send the event as application/json");
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw new AppError("malformed_json", "The request body is not valid JSON");
  }
}
