/**
 * The provider-neutral call event. Provider adapters (Twilio, generic PBX) map their fields onto
 * this; nothing past an adapter sees a provider's field names.
 */
export type Provider = "twilio" | "pbx";

/** Status of one leg as providers report it; anything unrecognised becomes "unknown". */
export type LegStatus =
  | "queued"
  | "initiated"
  | "ringing"
  | "in-progress"
  | "completed"
  | "busy"
  | "no-answer"
  | "failed"
  | "canceled"
  | "unknown";

export type Direction = "inbound" | "outbound";

export interface CallParty {
  direction: Direction;
  /** As the provider sent them: E.164, `client:x`, a SIP URI, "anonymous"... */
  from: string;
  to: string;
  callerName?: string;
  /** The tracking number dialled, when it differs from `to` (PBX, forwarded calls). */
  trackingNumber?: string;
}

interface Base {
  provider: Provider;
  /** The provider's id of the customer-facing (parent) call. */
  callId: string;
  occurredAt: Date;
  /** The provider's status string, kept for the call's event history. */
  rawStatus?: string;
}

/** A new call reached us (Twilio voice webhook, PBX ringing). */
export interface CallStartedEvent extends Base, CallParty {
  type: "call.started";
  /** Agents we are ringing for this call (user ids), decided by routing. */
  ringing?: string[];
  /** Agents a PBX says it is ringing, as it names them (email, dial target or extension). */
  ringingAgentRefs?: string[];
}

/** Status of the parent call itself. */
export interface CallStatusEvent extends Base, CallParty {
  type: "call.status";
  status: LegStatus;
  sequence?: number;
  durationSec?: number;
  /** PBX only: who answered (email, dial target or extension), when the provider knows it. */
  agent?: string;
}

/** Status of one agent leg (a child of the parent call). */
export interface LegStatusEvent extends Base {
  type: "leg.status";
  legId: string;
  /** What was dialled to reach the agent (`client:alice`, a number, a SIP URI). */
  target: string;
  status: LegStatus;
  sequence?: number;
  durationSec?: number;
}

/** The outcome of ringing the agents (Twilio `<Dial action>`). */
export interface DialResultEvent extends Base, CallParty {
  type: "dial.result";
  result: "answered" | "no-answer" | "busy" | "failed" | "canceled" | "unknown";
  bridged: boolean;
  answeredLegId?: string;
  durationSec?: number;
}

export interface RecordingEvent extends Base {
  type: "recording";
  recordingId: string;
  status: "in-progress" | "completed" | "absent" | "unknown";
  durationSec?: number;
  channels?: number;
  /** "call" for the conversation, "voicemail" for a message left after a miss. */
  kind: "call" | "voicemail";
  startedAt?: Date;
  /** PBX only: where the PBX keeps the file (a reference, never fetched from the request). */
  reference?: string;
}

export type CallEvent = CallStartedEvent | CallStatusEvent | LegStatusEvent | DialResultEvent | RecordingEvent;
