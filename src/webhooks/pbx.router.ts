import express, { Router } from "express";
import { pbxEventSchema } from "../telephony";
import { AppError } from "../platform/errors";
import type { WebhookIntake } from "./intake.service";
import { signedJson } from "./json-body";
import { countRefusals } from "./refusals";
import { verifyStandardWebhook } from "../platform/standard-webhooks";
import { WEBHOOK_BODY_LIMIT } from "./twilio.router";

/**
 * POST /webhooks/pbx: any PBX's call events, JSON signed per Standard Webhooks. The signature is
 * checked over the exact bytes received, before the body is parsed. See docs/pbx-webhook.md.
 */
export function pbxRouter(deps: { secret: string | undefined; intake: WebhookIntake; count: (result: string) => void }): Router {
  const r = Router();
  r.post("/", express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }), async (req, res) => {
    if (!deps.secret) throw new AppError("provider_not_configured", "The PBX webhook is not configured on this service (set PBX_WEBHOOK_SECRET)");
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const { id } = verifyStandardWebhook(deps.secret, req.headers, raw);
    const json = signedJson(req, raw);
    const event = pbxEventSchema.parse(json);
    const accepted = await deps.intake.accept("pbx", `pbx:${id}`, { event }, { lane: `pbx:${event.callId}`, ringing: event.type === "ringing" });
    deps.count(accepted.duplicate ? "duplicate" : "accepted");
    res.status(204).end();
  });
  r.use(countRefusals(({ result }) => deps.count(result)));
  return r;
}
