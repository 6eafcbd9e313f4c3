import { createHmac, timingSafeEqual } from "node:crypto";
import { AppError } from "../platform/errors";

/**
 * Standard Webhooks (symmetric, `v1` = HMAC-SHA256) verification and signing, on node:crypto.
 *
 * Signed content: `${webhook-id}.${webhook-timestamp}.${raw body}`, keyed with the base64-decoded
 * part of a `whsec_...` secret. `webhook-signature` is a space-separated list of
 * `<version>,<base64>` entries: any one valid `v1` entry is enough (key rotation), other versions
 * (`v1a` asymmetric, `v2`...) are ignored. The timestamp must be within 5 minutes of now, either way.
 *
 * Why not the `standardwebhooks` npm package: its verify reads the clock itself (no `now`), parses
 * the body as JSON, accepts timestamps like "123abc" (parseInt) and signs a Buffer body after
 * decoding it as UTF-8 rather than over its bytes; wrapping it would mean working around all of
 * that for ~40 lines of HMAC. Conformance is pinned by the spec's own vectors in the unit tests.
 */

export interface VerifiedDelivery {
  id: string;
  timestamp: Date;
}

export const STANDARD_WEBHOOK_TOLERANCE_SEC = 5 * 60;

const SECRET_PREFIX = "whsec_";
/**
 * The spec asks for at least 24 random bytes; we refuse only what is clearly no key, matching
 * what config.ts lets through for PBX_WEBHOOK_SECRET (16+ base64 characters = 12+ bytes).
 */
const MIN_SECRET_BYTES = 12;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/**
 * Printable ASCII without spaces or `.`: the spec asks that the id never contain a `.`, which
 * delimits the signed content. Bounded so it fits the inbox's delivery key.
 */
const MESSAGE_ID = /^[\x21-\x2d\x2f-\x7e]{1,200}$/;
const UNIX_SECONDS = /^\d{1,12}$/;
/** Far above any real rotation (2–3 entries), low enough that a hostile header costs nothing. */
const MAX_SIGNATURE_HEADER = 4096;

/**
 * Decodes a `whsec_<base64>` secret (the prefix is optional). A missing or malformed secret is
 * this service's misconfiguration, not the caller's fault: `provider_not_configured` (503).
 */
export function decodeStandardWebhookSecret(secret: string): Buffer {
  const trimmed = typeof secret === "string" ? secret.trim() : "";
  const b64 = trimmed.startsWith(SECRET_PREFIX) ? trimmed.slice(SECRET_PREFIX.length) : trimmed;
  const key = BASE64.test(b64) ? Buffer.from(b64, "base64") : Buffer.alloc(0);
  if (key.length < MIN_SECRET_BYTES) {
    throw new AppError(
      "provider_not_configured",
      `The webhook secret is missing or invalid: expected ${SECRET_PREFIX}<base64 of at least ${MIN_SECRET_BYTES} (better 24+) random bytes>`,
    );
  }
  return key;
}

function hmacBase64(key: Buffer, id: string, unixSeconds: number, body: Buffer | string): string {
  return createHmac("sha256", key)
    .update(`${id}.${unixSeconds}.`, "utf8")
    .update(typeof body === "string" ? Buffer.from(body, "utf8") : body)
    .digest("base64");
}

/** Returns the `webhook-signature` header value (`v1,<base64>`) for one delivery. */
export function signStandardWebhook(secret: string, id: string, timestamp: Date, body: string): string {
  const key = decodeStandardWebhookSecret(secret);
  return `v1,${hmacBase64(key, id, Math.floor(timestamp.getTime() / 1000), body)}`;
}

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | string[] | undefined {
  if (headers[name] !== undefined) return headers[name];
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/** One value, whatever shape the HTTP layer gave it; several different values are refused. */
function single(headers: Headers, name: string): string {
  const raw = header(headers, name);
  const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === "string" && v.trim() !== "");
  if (values.length === 0) throw new AppError("bad_signature", `Missing ${name} header`);
  if (new Set(values.map((v) => v.trim())).size > 1) throw new AppError("bad_signature", `Several different ${name} headers`);
  return values[0]!.trim();
}

/**
 * Verifies one delivery against the raw request body (the exact bytes received, before any JSON
 * parsing). Throws AppError("bad_signature") for missing headers, a malformed id, a malformed or
 * out-of-tolerance timestamp, or no valid `v1` signature; AppError("provider_not_configured") if
 * the secret itself is unusable.
 */
export function verifyStandardWebhook(secret: string, headers: Headers, rawBody: Buffer | string, now: Date = new Date()): VerifiedDelivery {
  const key = decodeStandardWebhookSecret(secret);
  if (headers === null || typeof headers !== "object") throw new AppError("bad_signature", "Missing webhook headers");

  const id = single(headers, "webhook-id");
  const ts = single(headers, "webhook-timestamp");
  const signatureHeader = [header(headers, "webhook-signature")].flat().filter((v) => typeof v === "string").join(" ");
  if (signatureHeader.trim() === "") throw new AppError("bad_signature", "Missing webhook-signature header");

  if (!MESSAGE_ID.test(id)) {
    throw new AppError("bad_signature", "webhook-id must be 1-200 printable ASCII characters without spaces or '.'");
  }
  if (!UNIX_SECONDS.test(ts)) throw new AppError("bad_signature", "webhook-timestamp must be unix seconds (digits only)");
  const unixSeconds = Number(ts);
  const skew = Math.floor(now.getTime() / 1000) - unixSeconds;
  if (skew > STANDARD_WEBHOOK_TOLERANCE_SEC) {
    throw new AppError("bad_signature", `webhook-timestamp is too old (more than ${STANDARD_WEBHOOK_TOLERANCE_SEC}s before now): check the sender's clock`);
  }
  if (-skew > STANDARD_WEBHOOK_TOLERANCE_SEC) {
    throw new AppError("bad_signature", `webhook-timestamp is too far in the future (more than ${STANDARD_WEBHOOK_TOLERANCE_SEC}s after now): check the sender's clock`);
  }
  if (signatureHeader.length > MAX_SIGNATURE_HEADER) throw new AppError("bad_signature", "webhook-signature header is too long");
  if (typeof rawBody !== "string" && !Buffer.isBuffer(rawBody)) throw new AppError("bad_signature", "No raw body to verify");

  const expected = Buffer.from(hmacBase64(key, id, unixSeconds, rawBody), "utf8");
  let matched = false;
  for (const entry of signatureHeader.split(" ")) {
    const comma = entry.indexOf(",");
    if (comma < 0 || entry.slice(0, comma) !== "v1") continue;
    const candidate = Buffer.from(entry.slice(comma + 1), "utf8");
    // Lengths are public (a SHA-256 in base64 is always 44 characters); contents compare in constant time.
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
  }
  if (!matched) throw new AppError("bad_signature", "No valid v1 signature in webhook-signature for this body (wrong secret, or the body was altered)");
  return { id, timestamp: new Date(unixSeconds * 1000) };
}
