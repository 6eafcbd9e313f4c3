import { createHmac, timingSafeEqual } from "node:crypto";
import { AppError } from "../platform/errors";

/**
 * CallRail signs each webhook with the company's signing key: the `signature` header is the
 * base64 HMAC-SHA1 of the raw body. Checked over the exact bytes received, in constant time.
 */
export function verifyCallRailSignature(key: string, header: string | string[] | undefined, raw: Buffer): void {
  const given = Array.isArray(header) ? header[0] : header;
  if (!given) throw new AppError("bad_signature", "Missing signature header");
  const expected = signCallRail(key, raw);
  const a = Buffer.from(given.trim(), "utf8");
  const b = Buffer.from(expected, "utf8");
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new AppError("bad_signature", "Signature does not match");
}

export const signCallRail = (key: string, raw: Buffer | string): string => createHmac("sha1", key).update(raw).digest("base64");
