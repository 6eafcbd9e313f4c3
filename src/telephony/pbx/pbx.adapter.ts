import { AppError } from "../../platform/errors";
import type { CallEvent, CallParty, CallStatusEvent } from "../call-event";
import type { PbxEvent } from "./pbx-event.schema";

/**
 * The only place PBX field names exist past the schema: one validated PBX event becomes the
 * provider-neutral events the ingest applies.
 */
export function pbxToCallEvents(e: PbxEvent): CallEvent[] {
  const base = { provider: "pbx" as const, callId: e.callId, occurredAt: new Date(e.occurredAt), rawStatus: e.type };
  const party: CallParty = {
    direction: e.direction,
    from: e.from,
    to: e.to,
    ...(e.callerName !== undefined && { callerName: e.callerName }),
    ...(e.trackingNumber !== undefined && { trackingNumber: e.trackingNumber }),
  };
  const agent = e.agent !== undefined ? { agent: e.agent } : {};
  const status = (s: CallStatusEvent["status"], extra: Partial<CallStatusEvent> = {}): CallStatusEvent => ({
    type: "call.status",
    ...base,
    ...party,
    status: s,
    ...extra,
  });

  switch (e.type) {
    case "ringing":
      return [{ type: "call.started", ...base, ...party, ...(e.agent !== undefined && { ringingAgentRefs: [e.agent] }) }];
    case "answered":
      return [status("in-progress", agent)];
    case "ended": {
      const completed = status("completed", e.durationSec !== undefined ? { durationSec: e.durationSec } : {});
      // A PBX that sends no "answered" event says so here; the ingest learns of the answer (and
      // who took it) from the in-progress event, exactly as if "answered" had been posted.
      return e.answered === true ? [status("in-progress", agent), completed] : [completed];
    }
    case "recording": {
      const r = e.recording;
      // Unreachable for a parsed event: the schema requires `recording` on this type.
      if (!r) throw new AppError("validation_failed", 'A PBX "recording" event needs a recording object');
      return [
        {
          type: "recording",
          ...base,
          recordingId: r.id,
          status: "completed",
          kind: "call",
          ...(r.durationSec !== undefined && { durationSec: r.durationSec }),
          ...(r.channels !== undefined && { channels: r.channels }),
          ...(r.url !== undefined && { reference: r.url }),
        },
      ];
    }
  }
}
