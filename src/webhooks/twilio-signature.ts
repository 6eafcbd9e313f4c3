import type { RequestHandler } from "express";
import twilio from "twilio";
import { AppError } from "../platform/errors";

/**
 * Checks X-Twilio-Signature against PUBLIC_URL + the original path and query — the URL Twilio
 * called — never req.protocol/Host, which a proxy rewrites. Runs after the form body parser.
 */
export function verifyTwilioSignature(opts: { publicUrl: string; authToken: string | undefined }): RequestHandler {
  return (req, _res, next) => {
    if (!opts.authToken) {
      throw new AppError("provider_not_configured", "Twilio is not configured on this service (set TWILIO_AUTH_TOKEN)");
    }
    const signature = req.headers["x-twilio-signature"];
    if (typeof signature !== "string" || signature.length === 0 || signature.length > 200) {
      throw new AppError("bad_signature", "Missing X-Twilio-Signature");
    }
    const url = `${opts.publicUrl}${req.originalUrl}`;
    const params = req.is("application/x-www-form-urlencoded") ? (req.body as Record<string, string>) : {};
    if (!twilio.validateRequest(opts.authToken, signature, url, params)) {
      throw new AppError("bad_signature", "X-Twilio-Signature does not match this request");
    }
    next();
  };
}
