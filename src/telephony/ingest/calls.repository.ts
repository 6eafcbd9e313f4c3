import type { EntityManager } from "typeorm";
import type { CallEvent, Direction, LegStatus } from "../call-event";
import { appendOnlyTable, appendRow, DeferredWrites, write } from "../../platform/db/deferred-writes";
import { prepared } from "../../platform/db/prepared";
import { advisoryLocksSql } from "../../platform/db/sql";
import { userByDialTargetSql } from "../../crm";
import type { NewCallReport } from "../../tracking";
import type { CallStatus, MissedReason } from "./call-state";

export interface CallRow {
  id: string;
  provider: string;
  providerCallId: string;
  direction: Direction;
  fromRaw: string;
  toRaw: string;
  fromE164: string | null;
  toE164: string | null;
  contactId: string | null;
  dealId: string | null;
  status: CallStatus;
  outcome: "answered" | "missed" | null;
  missedReason: MissedReason | null;
  answeredBy: string | null;
  startedAt: Date;
  answeredAt: Date | null;
  endedAt: Date | null;
  durationSec: number | null;
  lastSequence: number | null;
  isFirstTimeCaller: boolean | null;
  /** Click-to-call: who started it (read only here; set when the call is placed). */
  initiatedBy: string | null;
}

const CALL_COLUMNS = `id, provider, provider_call_id AS "providerCallId", direction, from_raw AS "fromRaw", to_raw AS "toRaw",
  from_e164 AS "fromE164", to_e164 AS "toE164", contact_id AS "contactId", deal_id AS "dealId", status, outcome,
  missed_reason AS "missedReason", answered_by AS "answeredBy", started_at AS "startedAt", answered_at AS "answeredAt",
  ended_at AS "endedAt", duration_sec AS "durationSec", last_sequence AS "lastSequence", is_first_time_caller AS "isFirstTimeCaller",
  initiated_by AS "initiatedBy"`;

/** Tracking numbers and numbers that received inbound calls are ours, never a caller's. */
const IS_OWN_NUMBER = (param: string) => `(EXISTS (SELECT 1 FROM tracking_numbers WHERE number = ${param})
  OR EXISTS (SELECT 1 FROM tracking_pools WHERE overflow_number = ${param}) OR EXISTS (SELECT 1 FROM own_numbers WHERE number = ${param}))`;
/**
 * The customer's number ($10) is checked against ours in the same round trip, and the advisory
 * locks named by $11 are taken before the row is written or locked.
 */
const UPSERT_CALL = prepared(
  "calls.upsert",
  `INSERT INTO calls AS c (provider, provider_call_id, direction, from_raw, to_raw, from_e164, to_e164, status, started_at)
   SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM ${advisoryLocksSql("$11")} AS locked
   ON CONFLICT (provider, provider_call_id) DO UPDATE SET updated_at = c.updated_at
   RETURNING ${CALL_COLUMNS}, (xmax = 0) AS created, COALESCE(${IS_OWN_NUMBER("$10::text")}, false) AS "customerIsOwn"`,
);
/** The fields `save` writes, in the order of its parameters $2... */
const SAVED_FIELDS = ["contactId", "dealId", "status", "outcome", "missedReason", "answeredBy", "startedAt", "answeredAt", "endedAt", "durationSec", "lastSequence", "isFirstTimeCaller"] as const satisfies ReadonlyArray<keyof CallRow>;
const sameValue = (a: unknown, b: unknown): boolean => (a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b);
const SAVE_SET = `UPDATE calls SET contact_id = $2, deal_id = $3, status = $4, outcome = $5, missed_reason = $6, answered_by = $7,
  started_at = $8, answered_at = $9, ended_at = $10, duration_sec = $11, last_sequence = $12, is_first_time_caller = $13, updated_at = now()`;
const SAVE_CALL = prepared("calls.save", `${SAVE_SET} WHERE id = $1`);
const SAVE_NEW_CALL = prepared(
  "calls.save_new",
  `${SAVE_SET}, caller_key = $14, attr_source = $15, attr_medium = $16, attr_campaign = $17, attr_keyword = $18 WHERE id = $1`,
);
const CALL_EVENTS = appendOnlyTable("call_events", {
  call_id: "uuid",
  inbox_id: "uuid",
  type: "text",
  provider_status: "text",
  sequence: "integer",
  occurred_at: "timestamptz",
  payload: "jsonb",
});
const LEG_USER = prepared("call_legs.user", `SELECT user_id FROM call_legs WHERE provider = $1 AND provider_leg_id = $2`);
/**
 * The call of a leg or a recording, locked; they are written by the same statement (one round
 * trip, not two). NO KEY UPDATE, not UPDATE: it still orders the deliveries of one call, but
 * lets rows that reference the call (a pop, a leg, a recording) be written meanwhile. FOR UPDATE
 * would hold their foreign-key checks until this transaction commits: a pop waited for the
 * call's next delivery (its leg ringing) to be applied.
 */
const LOCKED_CALL = `WITH call AS (SELECT ${CALL_COLUMNS} FROM calls WHERE provider = $1 AND provider_call_id = $2 FOR NO KEY UPDATE)`;
const LOCK_CALL_WITH_RECORDING = prepared(
  "calls.lock_with_recording",
  `${LOCKED_CALL}, recording AS (
     INSERT INTO recordings AS r (call_id, provider, provider_recording_id, status, duration_sec, channels, source, started_at)
       SELECT call.id, $1, $3, $4, $5, $6, $7, $8 FROM call
       ON CONFLICT (provider, provider_recording_id) DO UPDATE SET
         status = CASE WHEN r.status IN ('completed', 'absent') THEN r.status ELSE EXCLUDED.status END,
         duration_sec = COALESCE(EXCLUDED.duration_sec, r.duration_sec),
         channels = COALESCE(EXCLUDED.channels, r.channels),
         started_at = COALESCE(r.started_at, EXCLUDED.started_at),
         updated_at = now())
   SELECT * FROM call`,
);
const OWN_NUMBER = prepared("numbers.own", `SELECT ${IS_OWN_NUMBER("$1")} AS own`);
/** Numbers that received inbound calls (migration OwnNumbers). */
const OWN_NUMBERS = appendOnlyTable("own_numbers", { number: "text", first_call_at: "timestamptz" }, "ON CONFLICT (number) DO NOTHING");

/** All SQL of the call ingest. Raw statements on the hot path: ON CONFLICT and row locks say what they do. */
export class CallsRepository {
  /**
   * Inserts the call if new and returns its row locked, in one statement: the no-op DO UPDATE
   * takes the row lock, so events of one call apply one at a time. (xmax = 0) tells an insert.
   * `customerIsOwn`: the customer's number (the caller's on inbound calls, the callee's on
   * outbound ones) is one of ours, so no contact is made for it. `locks`: advisory locks to hold
   * first (always in the same order as their other takers, so they cannot deadlock).
   */
  async upsertAndLock(
    em: EntityManager,
    c: { provider: string; providerCallId: string; direction: Direction; fromRaw: string; toRaw: string; fromE164: string | null; toE164: string | null; status: CallStatus; startedAt: Date },
    locks: string[] = [],
  ): Promise<{ call: CallRow; created: boolean; customerIsOwn: boolean }> {
    const customer = c.direction === "inbound" ? c.fromE164 : c.toE164;
    const [row] = await em.query(
      UPSERT_CALL,
      [c.provider, c.providerCallId, c.direction, c.fromRaw.slice(0, 200), c.toRaw.slice(0, 200), c.fromE164, c.toE164, c.status, c.startedAt, customer, locks],
    );
    const { created, customerIsOwn, ...call } = row as CallRow & { created: boolean; customerIsOwn: boolean };
    // A delivery applied earlier in this transaction may have noted the number and not written it yet.
    return { call, created, customerIsOwn: customerIsOwn || (customer !== null && ownNumberWaiting(em, customer)) };
  }

  /**
   * Writes the call if the event changed it (a ringing leg, a recording, a repeated status
   * mostly do not); a new inbound call's report columns go with it (one row version, not two).
   * `withClosingStatement`: nothing else in the delivery reads the call's row (DeferredWrites.later).
   */
  async save(em: EntityManager, before: CallRow, c: CallRow, report?: NewCallReport, opts: { withClosingStatement?: boolean } = {}): Promise<void> {
    if (!report && SAVED_FIELDS.every((k) => sameValue(before[k], c[k]))) return;
    const values = [c.id, ...SAVED_FIELDS.map((k) => c[k])];
    if (report) values.push(report.callerKey, report.labels.source, report.labels.medium, report.labels.campaign, report.labels.keyword);
    await write(em, { sql: report ? SAVE_NEW_CALL : SAVE_CALL, params: values }, opts);
  }

  /** The event in the call's history; written with the delivery's other appends when deferred. */
  async addEvent(em: EntityManager, callId: string, inboxId: string | null, ev: CallEvent): Promise<void> {
    const status = "status" in ev ? ev.status : ev.type === "dial.result" ? ev.result : undefined;
    await appendRow(em, CALL_EVENTS, [callId, inboxId, ev.type, ev.rawStatus ?? status ?? null, "sequence" in ev ? (ev.sequence ?? null) : null, ev.occurredAt, JSON.stringify(ev)]);
  }

  /**
   * Locks the call (LOCKED_CALL) and writes its leg in the same statement; none when the call
   * is not there yet. Leg status only moves forward; `leg.userId` is the leg's agent, resolved
   * from its dial target in the same statement.
   */
  async lockWithLeg(
    em: EntityManager,
    l: { provider: string; providerCallId: string; legId: string; target: string; status: LegStatus; rank: number; occurredAt: Date; answered: boolean; ended: boolean; durationSec?: number; sequence?: number },
  ): Promise<{ call: CallRow; leg: { userId: string | null; ended: boolean } } | undefined> {
    const [row] = await em.query(
      LOCK_CALL_WITH_LEG,
      [l.provider, l.providerCallId, l.legId, l.target || null, l.status, l.answered, l.occurredAt, l.ended, l.durationSec ?? null, l.sequence ?? null, l.rank],
    );
    if (!row) return undefined;
    const { legUserId, legEnded, ...call } = row as CallRow & { legUserId: string | null; legEnded: boolean };
    return { call, leg: { userId: legUserId, ended: legEnded } };
  }

  async legUser(em: EntityManager, provider: string, legId: string): Promise<string | null> {
    const [row] = await em.query(LEG_USER, [provider, legId]);
    return row?.user_id ?? null;
  }

  /**
   * Locks the call (LOCKED_CALL) and writes its recording in the same statement; none when the
   * call is not there yet. Terminal recording states are sticky; duration and channels fill in.
   */
  async lockWithRecording(
    em: EntityManager,
    r: { provider: string; providerCallId: string; recordingId: string; status: string; durationSec?: number; channels?: number; source: string; startedAt?: Date },
  ): Promise<CallRow | undefined> {
    const rows = await em.query(
      LOCK_CALL_WITH_RECORDING,
      [r.provider, r.providerCallId, r.recordingId, r.status, r.durationSec ?? null, r.channels ?? null, r.source, r.startedAt ?? null],
    );
    return rows[0];
  }

  /** A number that received an inbound call is ours from then on. */
  async rememberOwnNumber(em: EntityManager, e164: string, at: Date): Promise<void> {
    await appendRow(em, OWN_NUMBERS, [e164, at]);
  }

  /** Tracking numbers and numbers that received inbound calls are ours, never a caller's. */
  async isOwnNumber(em: EntityManager, e164: string): Promise<boolean> {
    if (ownNumberWaiting(em, e164)) return true;
    const [row] = await em.query(OWN_NUMBER, [e164]);
    return Boolean(row?.own);
  }
}

/** A delivery applied earlier in this transaction may have noted the number and not written it yet. */
const ownNumberWaiting = (em: EntityManager, e164: string): boolean => DeferredWrites.waiting(em, OWN_NUMBERS).some(([number]) => number === e164);

export const LEG_RANKS: Record<LegStatus, number> = {
  unknown: 0,
  queued: 1,
  initiated: 2,
  ringing: 3,
  "in-progress": 4,
  completed: 5,
  busy: 5,
  "no-answer": 5,
  failed: 5,
  canceled: 5,
};

const LOCK_CALL_WITH_LEG = prepared(
  "calls.lock_with_leg",
  `${LOCKED_CALL}, leg AS (
     INSERT INTO call_legs AS l (call_id, provider, provider_leg_id, target, user_id, status, answered_at, ended_at, duration_sec, last_sequence)
       SELECT call.id, $1, $3, $4, ${userByDialTargetSql("$4")}, $5, CASE WHEN $6 THEN $7::timestamptz END, CASE WHEN $8 THEN $7::timestamptz END, $9, $10 FROM call
       ON CONFLICT (provider, provider_leg_id) DO UPDATE SET
         target = COALESCE(l.target, EXCLUDED.target),
         user_id = COALESCE(l.user_id, EXCLUDED.user_id),
         status = CASE WHEN $11 > ${LEG_RANK_SQL("l.status")} THEN EXCLUDED.status ELSE l.status END,
         answered_at = LEAST(l.answered_at, EXCLUDED.answered_at),
         ended_at = LEAST(l.ended_at, EXCLUDED.ended_at),
         duration_sec = COALESCE(l.duration_sec, EXCLUDED.duration_sec),
         last_sequence = GREATEST(l.last_sequence, EXCLUDED.last_sequence),
         updated_at = now()
       RETURNING user_id, ended_at IS NOT NULL AS ended)
   SELECT call.*, leg.user_id AS "legUserId", leg.ended AS "legEnded" FROM call CROSS JOIN leg`,
);

function LEG_RANK_SQL(col: string): string {
  return `(CASE ${col} ${Object.entries(LEG_RANKS)
    .map(([s, r]) => `WHEN '${s}' THEN ${r}`)
    .join(" ")} ELSE 0 END)`;
}
