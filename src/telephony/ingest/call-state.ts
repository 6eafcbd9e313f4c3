import type { LegStatus } from "../call-event";

/**
 * The call record's state is a join of facts, so any arrival order of the same events gives
 * the same record: status only moves forward (ringing → in-progress → completed, terminal
 * sticky), timestamps keep the earliest value, the missed reason keeps the strongest.
 */
export type CallStatus = "ringing" | "in-progress" | "completed";

const RANK: Record<CallStatus, number> = { ringing: 1, "in-progress": 2, completed: 3 };

export function callStatusOf(leg: LegStatus): CallStatus | undefined {
  switch (leg) {
    case "queued":
    case "initiated":
    case "ringing":
      return "ringing";
    case "in-progress":
      return "in-progress";
    case "completed":
    case "busy":
    case "no-answer":
    case "failed":
    case "canceled":
      return "completed";
    default:
      return undefined;
  }
}

export const laterStatus = (a: CallStatus, b: CallStatus): CallStatus => (RANK[b] > RANK[a] ? b : a);

export type MissedReason = "abandoned" | "no-agents" | "no-answer" | "busy" | "failed" | "canceled" | "timeout" | "voicemail";

/** Higher wins: a voicemail explains a miss better than "no answer", which beats "abandoned". */
const REASON_STRENGTH: Record<MissedReason, number> = {
  abandoned: 1,
  timeout: 2,
  canceled: 3,
  failed: 4,
  busy: 5,
  "no-answer": 6,
  "no-agents": 7,
  voicemail: 8,
};

export function strongerReason(a: MissedReason | null, b: MissedReason | null): MissedReason | null {
  if (!a) return b;
  if (!b) return a;
  return REASON_STRENGTH[b] > REASON_STRENGTH[a] ? b : a;
}

export const earliest = (a: Date | null, b: Date | null): Date | null => (!a ? b : !b ? a : a <= b ? a : b);

export interface CallFacts {
  status: CallStatus;
  answeredAt: Date | null;
  missedReason: MissedReason | null;
}

/**
 * Outcome from facts: answered once an agent answered (never undone); missed once a miss is
 * known (a dial that reached nobody, nobody to ring, a voicemail) or the call ended unanswered.
 */
export function outcomeOf(f: CallFacts): "answered" | "missed" | null {
  if (f.answeredAt) return "answered";
  if (f.missedReason && f.missedReason !== "abandoned") return "missed";
  if (f.status === "completed") return "missed";
  return null;
}
