import { z } from "zod";
import type { CallEvent, LegStatus } from "../call-event";
import { isUuid } from "../../platform/uuid";

/**
 * The only place Twilio's parameter names exist. Twilio adds parameters without notice, so
 * unknown ones pass through (they are part of the signature and the stored raw payload).
 */
const sid = (prefix: string) => z.string().regex(new RegExp(`^${prefix}[0-9a-fA-F]{32}$`), `must be a ${prefix} sid`);
const optionalInt = z.coerce.number().int().min(0).max(10_000_000).optional().catch(undefined);

const callParams = z
  .object({
    CallSid: sid("CA"),
    AccountSid: z.string().max(64).optional(),
    From: z.string().max(200).default(""),
    To: z.string().max(200).default(""),
    CallStatus: z.string().max(40).optional(),
    Direction: z.string().max(40).optional(),
    CallerName: z.string().max(200).optional(),
    ParentCallSid: sid("CA").optional(),
    SequenceNumber: optionalInt,
    CallDuration: optionalInt,
    Timestamp: z.string().max(100).optional(),
  })
  .loose();

const dialParams = callParams.extend({
  DialCallStatus: z.string().max(40).optional(),
  DialCallSid: sid("CA").optional(),
  DialCallDuration: optionalInt,
  DialBridged: z.string().max(10).optional(),
});

const recordingParams = z
  .object({
    CallSid: sid("CA"),
    RecordingSid: sid("RE"),
    RecordingStatus: z.string().max(40).default("completed"),
    RecordingDuration: optionalInt,
    RecordingChannels: optionalInt,
    RecordingSource: z.string().max(60).optional(),
    RecordingStartTime: z.string().max(100).optional(),
  })
  .loose();

export type TwilioRoute = "voice" | "status" | "dial" | "recording";
export type TwilioParams = Record<string, string>;
export type TwilioQuery = Record<string, string>;

const schemaOf = { voice: callParams, status: callParams, dial: dialParams, recording: recordingParams } as const;

/** Throws a ZodError (→ 400) when a required parameter is missing or malformed. */
export function validateTwilioParams(route: TwilioRoute, params: TwilioParams): void {
  schemaOf[route].parse(params);
}

/** The dedupe key of one delivery: a redelivery of the same callback has the same key. */
export function twilioDeliveryKey(route: TwilioRoute, p: TwilioParams, q: TwilioQuery): string {
  switch (route) {
    case "voice":
      return `twilio:voice:${p.CallSid}`;
    case "status":
      return `twilio:status:${p.CallSid}:${p.SequenceNumber ?? "-"}:${p.CallStatus ?? "-"}`;
    case "dial":
      return `twilio:dial:${p.CallSid}:${q.stage ?? "all"}`;
    case "recording":
      return `twilio:recording:${p.RecordingSid}:${p.RecordingStatus ?? "completed"}`;
  }
}

/** The call a delivery is about: an agent's leg and a recording belong to their parent call. */
export function twilioLane(p: TwilioParams): string | undefined {
  const sid = p.ParentCallSid || p.CallSid;
  return sid ? `twilio:${sid}` : undefined;
}

const LEG_STATUSES = new Set<LegStatus>(["queued", "initiated", "ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled"]);
const legStatus = (s: string | undefined): LegStatus => (s && LEG_STATUSES.has(s as LegStatus) ? (s as LegStatus) : "unknown");

function dateOr(value: string | undefined, fallback: Date): Date {
  const d = value ? new Date(value) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : fallback;
}

function party(p: z.infer<typeof callParams>) {
  return {
    direction: p.Direction === "inbound" || p.Direction === undefined ? ("inbound" as const) : ("outbound" as const),
    from: p.From,
    to: p.To,
    callerName: p.CallerName || undefined,
  };
}

/**
 * Maps one stored Twilio delivery onto provider-neutral events. `ringing` is the routing
 * decision stored with a voice delivery (the agents rung for it).
 */
export function twilioToCallEvents(
  route: TwilioRoute,
  params: TwilioParams,
  query: TwilioQuery,
  ctx: { receivedAt: Date; ringing?: string[] },
): CallEvent[] {
  if (isUuid(query.c2c)) return clickToCallEvents(route, params, query.leg === "customer", query.c2c, ctx.receivedAt);
  return standardEvents(route, params, query, ctx);
}

/** The id click-to-call calls are kept under: ours, known before Twilio is even asked (see ClickToCallService). */
export const clickToCallId = (ref: string) => `c2c:${ref}`;

const ENDED = new Set<LegStatus>(["completed", "busy", "no-answer", "failed", "canceled"]);

/**
 * Click-to-call turns Twilio's shape around: the call Twilio reports as the parent is the
 * agent's leg (we ring the agent first) and its child is the customer. Every callback names our
 * call (`c2c`): the customer's leg is the call itself, the agent's is a leg of it, and the
 * agent's leg ending ends the call (when the agent did not answer, nobody else was reached).
 */
function clickToCallEvents(route: TwilioRoute, params: TwilioParams, customerLeg: boolean, ref: string, receivedAt: Date): CallEvent[] {
  const callId = clickToCallId(ref);
  if (route === "voice") return [];
  if (route === "recording" || route === "dial") {
    return standardEvents(route, params, {}, { receivedAt }).flatMap((ev) => (ev.type === "call.started" ? [] : [{ ...ev, callId }]));
  }
  const p = callParams.parse(params);
  const common = { provider: "twilio", callId, occurredAt: dateOr(p.Timestamp, receivedAt), rawStatus: p.CallStatus, status: legStatus(p.CallStatus), durationSec: p.CallDuration } as const;
  const call: CallEvent = { type: "call.status", ...common, direction: "outbound", from: p.From, to: p.To, sequence: p.SequenceNumber };
  if (customerLeg) return [call];
  const agentLeg: CallEvent = { type: "leg.status", ...common, legId: p.CallSid, target: p.To, sequence: p.SequenceNumber };
  // The agent's sequence numbers and duration are their leg's own (ringing them included): the call keeps the customer's.
  return ENDED.has(common.status) ? [agentLeg, { ...call, sequence: undefined, durationSec: undefined }] : [agentLeg];
}

function standardEvents(route: TwilioRoute, params: TwilioParams, query: TwilioQuery, ctx: { receivedAt: Date; ringing?: string[] }): CallEvent[] {
  if (route === "recording") {
    const p = recordingParams.parse(params);
    const status = ["in-progress", "completed", "absent"].includes(p.RecordingStatus) ? (p.RecordingStatus as "in-progress" | "completed" | "absent") : "unknown";
    return [
      {
        type: "recording",
        provider: "twilio",
        callId: p.CallSid,
        occurredAt: ctx.receivedAt,
        rawStatus: p.RecordingStatus,
        recordingId: p.RecordingSid,
        status,
        durationSec: p.RecordingDuration,
        channels: p.RecordingChannels,
        kind: query.kind === "voicemail" || p.RecordingSource === "RecordVerb" ? "voicemail" : "call",
        startedAt: p.RecordingStartTime ? dateOr(p.RecordingStartTime, ctx.receivedAt) : undefined,
      },
    ];
  }
  if (route === "dial") {
    const p = dialParams.parse(params);
    if (!p.DialCallStatus) return []; // the <Record> action after a voicemail: nothing to learn
    const s = p.DialCallStatus;
    const result = s === "completed" || s === "answered" ? "answered" : s === "no-answer" || s === "busy" || s === "failed" || s === "canceled" ? s : "unknown";
    const events: CallEvent[] = [];
    // The owner not answering in the first stage is not a miss: everyone else rings next.
    if (!(query.stage === "owner" && result !== "answered")) {
      events.push({
        type: "dial.result",
        provider: "twilio",
        callId: p.CallSid,
        occurredAt: ctx.receivedAt,
        rawStatus: s,
        ...party(p),
        result,
        bridged: p.DialBridged === undefined ? result === "answered" : p.DialBridged === "true",
        answeredLegId: p.DialCallSid,
        durationSec: p.DialCallDuration,
      });
    }
    if (ctx.ringing?.length) {
      events.push({ type: "call.started", provider: "twilio", callId: p.CallSid, occurredAt: ctx.receivedAt, ...party(p), ringing: ctx.ringing });
    }
    return events;
  }
  const p = callParams.parse(params);
  const occurredAt = dateOr(p.Timestamp, ctx.receivedAt);
  if (route === "voice") {
    return [{ type: "call.started", provider: "twilio", callId: p.CallSid, occurredAt, rawStatus: p.CallStatus, ...party(p), ringing: ctx.ringing }];
  }
  if (p.ParentCallSid) {
    return [
      {
        type: "leg.status",
        provider: "twilio",
        callId: p.ParentCallSid,
        legId: p.CallSid,
        target: p.To,
        occurredAt,
        rawStatus: p.CallStatus,
        status: legStatus(p.CallStatus),
        sequence: p.SequenceNumber,
        durationSec: p.CallDuration,
      },
    ];
  }
  return [
    {
      type: "call.status",
      provider: "twilio",
      callId: p.CallSid,
      occurredAt,
      rawStatus: p.CallStatus,
      ...party(p),
      status: legStatus(p.CallStatus),
      sequence: p.SequenceNumber,
      durationSec: p.CallDuration,
    },
  ];
}

/** A Twilio delivery as the inbox stores it. */
export interface TwilioDelivery {
  route: TwilioRoute;
  params: TwilioParams;
  query: TwilioQuery;
  /** For TwiML routes: what we answered, so a redelivery gets the same answer. */
  routing?: { action: string; agents?: Array<{ userId: string }> };
}

/** Stored delivery → events; the agents rung come from the stored routing decision. */
export function decodeTwilioDelivery(d: TwilioDelivery, receivedAt: Date): CallEvent[] {
  const ringing = d.routing ? (d.routing.action === "dial" ? (d.routing.agents ?? []).map((a) => a.userId) : d.route === "voice" ? [] : undefined) : undefined;
  return twilioToCallEvents(d.route, d.params, d.query, { receivedAt, ringing });
}
