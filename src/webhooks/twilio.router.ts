import express, { Router, type Request } from "express";
import {
  renderTwiml,
  twilioDeliveryKey,
  twilioLane,
  validateTwilioParams,
  type CallRouter,
  type RoutingDecision,
  type TwilioDelivery,
  type TwilioRoute,
  type TwimlTexts,
} from "../telephony";
import type { WebhookIntake } from "./intake.service";
import { verifyTwilioSignature } from "./twilio-signature";
import { countRefusals } from "./refusals";

export const WEBHOOK_BODY_LIMIT = "64kb";

const routeOf = (path: string) => path.replace(/^\//, "").split(/[/?]/)[0] || "unknown";

function stringsOnly(obj: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((obj ?? {}) as Record<string, unknown>)) if (typeof v === "string") out[k] = v;
  return out;
}

export function twilioRouter(deps: {
  publicUrl: string;
  authToken: string | undefined;
  intake: WebhookIntake;
  router: CallRouter;
  texts: TwimlTexts;
  count: (route: string, result: string) => void;
}): Router {
  const r = Router();
  r.use(express.urlencoded({ extended: false, limit: WEBHOOK_BODY_LIMIT, parameterLimit: 300 }));
  r.use(verifyTwilioSignature({ publicUrl: deps.publicUrl, authToken: deps.authToken }));

  const delivery = (route: TwilioRoute, req: Request): TwilioDelivery => {
    const params = stringsOnly(req.body);
    validateTwilioParams(route, params);
    return { route, params, query: stringsOnly(req.query) };
  };

  /**
   * TwiML routes answer with the decision stored by the first delivery: the intake keeps the
   * first payload, and a redelivery (rare) is decided again only to be answered from the stored
   * one. Looking the key up first would cost every call a round trip before its pop.
   */
  const twiml = (route: "voice" | "dial", decide: (d: TwilioDelivery) => Promise<RoutingDecision>) => async (req: Request, res: express.Response) => {
    const d = delivery(route, req);
    const key = twilioDeliveryKey(route, d.params, d.query);
    const accepted = await deps.intake.accept(`twilio.${route}`, key, { ...d, routing: await decide(d) }, { lane: twilioLane(d.params), ringing: true });
    deps.count(route, accepted.duplicate ? "duplicate" : "accepted");
    const routing = (accepted.payload.routing ?? { action: "hangup" }) as RoutingDecision;
    res.type("text/xml").send(renderTwiml(routing, { publicUrl: deps.publicUrl }, deps.texts));
  };

  const callback = (route: "status" | "recording") => async (req: Request, res: express.Response) => {
    const d = delivery(route, req);
    const accepted = await deps.intake.accept(`twilio.${route}`, twilioDeliveryKey(route, d.params, d.query), d, { lane: twilioLane(d.params) });
    deps.count(route, accepted.duplicate ? "duplicate" : "accepted");
    res.status(204).end();
  };

  r.post("/voice", twiml("voice", (d) => deps.router.forIncomingCall(d.params.From ?? "")));
  r.post(
    "/dial",
    twiml("dial", (d) =>
      deps.router.afterDial(d.query.stage, d.params.DialCallStatus === "completed" && d.params.DialBridged !== "false", d.query.owner),
    ),
  );
  r.post("/status", callback("status"));
  r.post("/recording", callback("recording"));
  r.use(countRefusals((result) => deps.count(routeOf(result.path), result.result)));
  return r;
}
