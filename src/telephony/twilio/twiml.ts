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
