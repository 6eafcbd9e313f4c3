import { randomBytes } from "node:crypto";
import twilio from "twilio";
import type { TestService } from "./test-service";
import { TEST_PUBLIC_URL, TEST_TWILIO } from "./test-service";

export type Params = Record<string, string>;
export interface Delivery {
  path: string;
  params: Params;
}

export const sid = (prefix: "CA" | "RE") => `${prefix}${randomBytes(16).toString("hex")}`;

/** Posts a form the way Twilio does, signed for PUBLIC_URL + path. */
export function postSigned(svc: TestService, d: Delivery, opts: { token?: string; signature?: string } = {}) {
  const signature = opts.signature ?? twilio.getExpectedTwilioSignature(opts.token ?? TEST_TWILIO.authToken, `${TEST_PUBLIC_URL}${d.path}`, d.params);
  return svc.http.post(d.path).type("form").set("x-twilio-signature", signature).send(d.params);
}

const base = (callSid: string, from: string, to: string): Params => ({
  AccountSid: TEST_TWILIO.accountSid,
  ApiVersion: "2010-04-01",
  CallSid: callSid,
  From: from,
  To: to,
  Caller: from,
  Called: to,
  Direction: "inbound",
});

export interface CallScript {
  callSid: string;
  from: string;
  to: string;
}

export const newCall = (from: string, to = "+15005550100"): CallScript => ({ callSid: sid("CA"), from, to });

export const voice = (c: CallScript, extra: Params = {}): Delivery => ({ path: "/webhooks/twilio/voice", params: { ...base(c.callSid, c.from, c.to), CallStatus: "ringing", ...extra } });

export const parentStatus = (c: CallScript, status: string, extra: Params = {}): Delivery => ({
  path: "/webhooks/twilio/status",
  params: { ...base(c.callSid, c.from, c.to), CallStatus: status, CallbackSource: "call-progress-events", ...extra },
});

/** Legs' callbacks carry timestamps an hour back: fixed within a run, inside any recent report period. */
const LEG_TIME_BASE = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

export function legStatuses(c: CallScript, legSid: string, target: string, statuses: string[], durationSec = 42): Delivery[] {
  return statuses.map((status, i) => ({
    path: "/webhooks/twilio/status",
    params: {
      ...base(legSid, c.from, target),
      Direction: "outbound-dial",
      ParentCallSid: c.callSid,
      CallStatus: status,
      SequenceNumber: String(i),
      CallbackSource: "call-progress-events",
      Timestamp: new Date(LEG_TIME_BASE + i * 1000).toUTCString(),
      ...(["completed", "busy", "no-answer", "failed", "canceled"].includes(status) ? { CallDuration: String(status === "completed" ? durationSec : 0) } : {}),
    },
  }));
}

export const dialResult = (c: CallScript, status: string, extra: Params = {}, stage = "all"): Delivery => ({
  path: `/webhooks/twilio/dial?stage=${stage}`,
  params: { ...base(c.callSid, c.from, c.to), CallStatus: "in-progress", DialCallStatus: status, ...extra },
});

export const recording = (c: CallScript, recSid: string, extra: Params = {}, query = ""): Delivery => ({
  path: `/webhooks/twilio/recording${query}`,
  params: {
    AccountSid: TEST_TWILIO.accountSid,
    CallSid: c.callSid,
    RecordingSid: recSid,
    RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${TEST_TWILIO.accountSid}/Recordings/${recSid}`,
    RecordingStatus: "completed",
    RecordingDuration: "40",
    RecordingChannels: "2",
    RecordingSource: "DialVerb",
    ...extra,
  },
});

/** The deliveries of one answered inbound call, after its voice webhook. */
export function answeredCallbacks(c: CallScript, agentTarget: string): Delivery[] {
  const leg = sid("CA");
  return [
    ...legStatuses(c, leg, agentTarget, ["initiated", "ringing", "in-progress", "completed"]),
    dialResult(c, "completed", { DialCallSid: leg, DialCallDuration: "42", DialBridged: "true" }),
    parentStatus(c, "completed", { CallDuration: "60" }),
    recording(c, sid("RE")),
  ];
}

/** The deliveries of an inbound call nobody answered, after its voice webhook. */
export function missedCallbacks(c: CallScript, agentTarget: string, how: "no-answer" | "busy" = "no-answer"): Delivery[] {
  const leg = sid("CA");
  return [
    ...legStatuses(c, leg, agentTarget, ["initiated", "ringing", how]),
    dialResult(c, how, { DialCallSid: leg, DialBridged: "false" }),
    parentStatus(c, "completed", { CallDuration: "35" }),
  ];
}

/** Applies every unapplied inbox row now (deferred ones included), until nothing moves. */
export async function drainInbox(svc: TestService): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const rows: Array<{ id: string }> = await svc.container.ds.query(`SELECT id FROM inbox WHERE status IN ('pending', 'deferred') ORDER BY received_at`);
    if (rows.length === 0) return;
    let progressed = false;
    for (const r of rows) {
      const result = await svc.container.inbox.process(r.id);
      if (result !== "deferred") progressed = true;
    }
    if (!progressed) return;
  }
}
