import twilio from "twilio";
import type { RoutingDecision } from "../routing/call-router";

export interface TwimlUrls {
  publicUrl: string;
}

export interface TwimlTexts {
  voicemailGreeting: string;
  unavailableMessage: string;
}

const LEG_EVENTS = ["initiated", "ringing", "answered", "completed"] as const;

/** Renders a routing decision as TwiML; every callback URL is absolute, built from PUBLIC_URL. */
export function renderTwiml(decision: RoutingDecision, urls: TwimlUrls, texts: TwimlTexts): string {
  const base = `${urls.publicUrl}/webhooks/twilio`;
  const vr = new twilio.twiml.VoiceResponse();
  switch (decision.action) {
    case "dial": {
      const owner = decision.stage === "owner" ? decision.agents[0]?.userId : undefined;
      const action = `${base}/dial?stage=${decision.stage}${owner ? `&owner=${encodeURIComponent(owner)}` : ""}`;
      const dial = vr.dial({
        action,
        method: "POST",
        timeout: decision.timeoutSec,
        answerOnBridge: true,
        record: "record-from-answer-dual",
        recordingStatusCallback: `${base}/recording`,
        recordingStatusCallbackMethod: "POST",
        recordingStatusCallbackEvent: ["completed", "absent"],
      });
      for (const agent of decision.agents) {
        const leg = { statusCallback: `${base}/status`, statusCallbackMethod: "POST" as const, statusCallbackEvent: [...LEG_EVENTS] };
        const target = agent.dialTarget;
        if (target.startsWith("client:")) dial.client(leg, target.slice("client:".length));
        else if (/^sips?:/.test(target)) dial.sip(leg, target);
        else dial.number(leg, target);
      }
      break;
    }
    case "voicemail":
      vr.say(texts.voicemailGreeting);
      vr.record({
        action: `${base}/dial?stage=done`,
        method: "POST",
        maxLength: 120,
        timeout: 5,
        playBeep: true,
        recordingStatusCallback: `${base}/recording?kind=voicemail`,
        recordingStatusCallbackMethod: "POST",
        recordingStatusCallbackEvent: ["completed", "absent"],
      });
      vr.hangup();
      break;
    case "message":
      vr.say(texts.unavailableMessage);
      vr.hangup();
      break;
    case "hangup":
      vr.hangup();
      break;
  }
  return vr.toString();
}

/**
 * Click-to-call, once the agent has answered: bridge the customer, shown our number, recorded
 * like inbound calls. Every callback carries `c2c` (our call's reference) so the adapter can
 * tell the customer's leg from the agent's.
 */
export function renderConnectTwiml(c: { publicUrl: string; callRef: string; to: string; callerId: string; timeoutSec: number }): string {
  const base = `${c.publicUrl}/webhooks/twilio`;
  const ref = `c2c=${encodeURIComponent(c.callRef)}`;
  const vr = new twilio.twiml.VoiceResponse();
  const dial = vr.dial({
    callerId: c.callerId,
    action: `${base}/dial?stage=outbound&${ref}`,
    method: "POST",
    timeout: c.timeoutSec,
    record: "record-from-answer-dual",
    recordingStatusCallback: `${base}/recording?${ref}`,
    recordingStatusCallbackMethod: "POST",
    recordingStatusCallbackEvent: ["completed", "absent"],
  });
  dial.number({ statusCallback: `${base}/status?${ref}&leg=customer`, statusCallbackMethod: "POST", statusCallbackEvent: [...LEG_EVENTS] }, c.to);
  return vr.toString();
}
