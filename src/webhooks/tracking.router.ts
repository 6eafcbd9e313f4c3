import { createHash } from "node:crypto";
import express, { Router } from "express";
import { TRACKING_PROVIDERS, toProviderCall, type TrackingProvider } from "../tracking";
import { AppError } from "../platform/errors";
import { verifyCallRailSignature } from "./callrail-signature";
import type { WebhookIntake } from "./intake.service";
import { signedJson } from "./json-body";
import { countRefusals } from "./refusals";
import { verifyStandardWebhook } from "../platform/standard-webhooks";
import { WEBHOOK_BODY_LIMIT } from "./twilio.router";

export interface TrackingWebhookSecrets {
  /** `whsec_…` of the generic (Standard Webhooks) tracker. */
  generic: string | undefined;
  /** CallRail's signing key. */
  callrail: string | undefined;
}

const SETTING: Record<TrackingProvider, string> = { generic: "TRACKING_WEBHOOK_SECRET", callrail: "CALLRAIL_WEBHOOK_SECRET" };

/**
 * POST /webhooks/tracking/:provider — call-tracking providers' reports of calls. Verified over
 * the exact bytes received, validated, then stored in the inbox like any provider delivery; the
 * tracking component merges each into its call, whichever arrives first.
 */
export function trackingWebhookRouter(deps: {
  secrets: TrackingWebhookSecrets;
  defaultRegion: string;
  intake: WebhookIntake;
  count: (provider: string, result: string) => void;
}): Router {
  const r = Router();
  r.post("/:provider", express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }), async (req, res) => {
    const provider = String(req.params.provider) as TrackingProvider;
    if (!TRACKING_PROVIDERS.includes(provider)) throw new AppError("not_found", `Unknown tracking provider; use one of: ${TRACKING_PROVIDERS.join(", ")}`);
    const secret = deps.secrets[provider];
    if (!secret) throw new AppError("provider_not_configured", `The ${provider} tracking webhook is not configured on this service (set ${SETTING[provider]})`);
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    // A duplicate delivery has the same key: Standard Webhooks' id, else the tracker's call id and the exact body.
    let deliveryId: string;
    if (provider === "generic") deliveryId = verifyStandardWebhook(secret, req.headers, raw).id;
    else {
      verifyCallRailSignature(secret, req.headers.signature, raw);
      deliveryId = createHash("sha256").update(raw).digest("hex").slice(0, 40);
    }
    const json = signedJson(req, raw);
    const report = toProviderCall(provider, json, deps.defaultRegion);
    const key = report ? `tracking.${provider}:${report.providerCallId}:${deliveryId}` : `tracking.${provider}:${deliveryId}`;
    const accepted = await deps.intake.accept(`tracking.${provider}`, key, { event: json });
    deps.count(provider, accepted.duplicate ? "duplicate" : "accepted");
    res.status(204).end();
  });
  r.use(countRefusals(({ path, result }) => deps.count(path.split("/")[1] ?? "unknown", result)));
  return r;
}
