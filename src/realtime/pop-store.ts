import type { DataSource, EntityManager } from "typeorm";
import type { ScreenPopContent } from "../crm";
import { COMMIT_WITHOUT_FLUSH_WAIT } from "../platform/db/async-commit";
import { prepared } from "../platform/db/prepared";
import { purgeStatement, type PurgeChunk } from "../platform/db/purge";
import { uuidsOfJsonArray } from "../platform/db/sql";

const ACK_FLUSH_MS = 20;
/**
 * How far before its cutoff each run of the resend looks, at least, in seconds: one sweep
 * interval. Runs come every five seconds, so this is about where the last one stopped (each
 * call's pops are looked at once), and a run looks further back only after runs were missed.
 * A dispatch is looked at if it commits within ten seconds of its statement's start (the age
 * at which a pop counts as lost) plus this.
 */
const RESEND_OVERLAP_S = 5;

/**
 * The CTEs that store a batch's pops: each call's card once, in `screen_pop_cards` (the latest
 * card built wins), and one narrow `screen_pops` row per (call, agent), answered by `saved` (id,
 * call_id, user_id). `input` is a query answering one row per call: `c` its id as text, `u` its
 * agents' ids as a JSON array, `p` its card. Only calls still ringing as the statement runs get
 * pops: a call answered since its card was read pops for no one (its dismissal, dispatched by
 * then or soon, found no pops to dismiss). Ten agents used to mean ten copies of the card,
 * written again by each ack (migration 14). Rows go in key order, so two batches never deadlock.
 * The calls are looked up by key, then their status checked (MATERIALIZED keeps the two apart):
 * with the status in the lookup, the planner, told by its statistics that few calls ring,
 * scanned every ringing call (`calls_live_idx`) for each batch, thousands in the bench's runs.
 */
export const storePops = (input: string) => `pop_all AS (${input}),
   pop_calls AS MATERIALIZED (SELECT id, status FROM calls WHERE id = ANY(ARRAY(SELECT c::uuid FROM pop_all))),
   pop_ringing AS (SELECT id FROM pop_calls WHERE status = 'ringing'),
   pop_input AS (SELECT * FROM pop_all WHERE c::uuid = ANY(ARRAY(SELECT id FROM pop_ringing))),
   pop_cards AS (
     INSERT INTO screen_pop_cards (call_id, payload) SELECT i.c::uuid, i.p FROM pop_input i ORDER BY 1
     ON CONFLICT (call_id) DO UPDATE SET payload = EXCLUDED.payload, updated_at = now()),
   saved AS (
     INSERT INTO screen_pops (call_id, user_id, status, sent_at)
     SELECT i.c::uuid, u.id::uuid, 'sent', now() FROM pop_input i CROSS JOIN LATERAL jsonb_array_elements_text(i.u) AS u(id)
     ORDER BY 1, 2
     ON CONFLICT (call_id, user_id) DO UPDATE SET sent_at = now() RETURNING id, call_id, user_id)`;

/** storePops' input from a JSON array parameter, as popsInput writes it. */
const popsOfJson = (param: string) => `SELECT e->>'c' AS c, e->'u' AS u, e->'p' AS p FROM jsonb_array_elements(${param}::jsonb) AS e`;

const SAVE_POPS = prepared("screen_pops.save", `WITH ${storePops(popsOfJson("$1"))} SELECT id, call_id, user_id FROM saved`);
/**
 * Every socket that connects asks: found from the calls still ringing (few), then by the pops'
 * key. Every pop's card is in screen_pop_cards (migration 18 moved the last ones there).
 */
const REPLAYABLE = prepared(
  "screen_pops.replayable",
  `SELECT p.id, k.payload
   FROM screen_pops p JOIN calls c ON c.id = p.call_id JOIN screen_pop_cards k ON k.call_id = p.call_id
   WHERE p.user_id = $1 AND p.status <> 'dismissed' AND c.status = 'ringing' ORDER BY p.created_at`,
);
/**
 * A burst of acks (ids as a JSON array, so that the plan is generic: see call-context's cards),
 * looked up by key: as `id IN (…)` the generic plan hashed the ids and scanned the whole table
 * until it held ~20,000 pops (5 ms for 27 acks among 16,000 pops, 0.6 ms by key).
 */
export const MARK_ACKED = prepared(
  "screen_pops.ack",
  `UPDATE screen_pops SET status = 'acked', acked_at = now()
   WHERE id = ANY(ARRAY(${uuidsOfJsonArray("$1")})) AND status IN ('pending', 'sent') AND ${COMMIT_WITHOUT_FLUSH_WAIT}`,
);

/** A pop counts as lost once it is this old, unacknowledged: `$1`, in ms. */
const LOST_AT = `now() - make_interval(secs => $1::double precision / 1000)`;

/**
 * The pops to send again (see PopStore.unacknowledged), of the calls `candidates` names (a query
 * answering `call_id`). Each step apart (MATERIALIZED), so that each is a lookup by key: the calls
 * of the candidates, then the pops of those still ringing (read as of now: a call answered since
 * is not sent again). Told by its statistics that few calls ring, the planner otherwise read the
 * pops of every ringing call, or the candidates once per ringing call. Answers one row more,
 * with no pop, whose `cutoff` is where the next run starts.
 */
const resendSql = (candidates: string) => `WITH candidates AS MATERIALIZED (${candidates}),
   candidate_calls AS MATERIALIZED (SELECT id, status FROM calls WHERE id = ANY(ARRAY(SELECT call_id FROM candidates))),
   resent AS (
     UPDATE screen_pops p SET sent_at = now() FROM candidate_calls c
     WHERE c.status = 'ringing' AND p.call_id = c.id AND p.status = 'sent' AND p.sent_at < ${LOST_AT}
     RETURNING p.id, p.user_id, p.call_id),
   due_again AS (UPDATE screen_pop_cards SET updated_at = now() WHERE call_id = ANY(ARRAY(SELECT DISTINCT call_id FROM resent)))
   SELECT r.id, r.user_id, k.payload, NULL::timestamptz AS cutoff FROM resent r JOIN screen_pop_cards k ON k.call_id = r.call_id
   UNION ALL SELECT NULL, NULL, NULL, ${LOST_AT}`;

/** A process's first run: every ringing call. */
const UNACKNOWLEDGED_OF_RINGING = prepared(
  "screen_pops.unacknowledged",
  resendSql(`SELECT id AS call_id FROM calls WHERE status = 'ringing' AND started_at > now() - interval '1 day'`),
);
/** The next runs: the calls whose pops came due since `$2`, the last run's cutoff. */
const UNACKNOWLEDGED_SINCE = prepared(
  "screen_pops.unacknowledged_since",
  resendSql(`SELECT call_id FROM screen_pop_cards
     WHERE updated_at > LEAST($2::timestamptz, ${LOST_AT} - interval '${RESEND_OVERLAP_S} seconds') AND updated_at <= ${LOST_AT}`),
);

export type CallPops = Array<{ callId: string; userIds: string[]; content: ScreenPopContent }>;

/** One entry per call, its agents once each, even when a batch rings an agent twice (owner first, then everyone). */
function popsInput(calls: CallPops): string | undefined {
  const byCall = new Map<string, { content: ScreenPopContent; userIds: Set<string> }>();
  for (const c of calls) {
    let entry = byCall.get(c.callId);
    if (!entry) byCall.set(c.callId, (entry = { content: c.content, userIds: new Set() }));
    for (const u of c.userIds) entry.userIds.add(u);
  }
  const input = [...byCall].filter(([, e]) => e.userIds.size > 0).map(([callId, e]) => ({ c: callId, u: [...e.userIds], p: e.content }));
  return input.length > 0 ? JSON.stringify(input) : undefined;
}

export const popIdsOf = (rows: Array<{ id: string; call_id: string; user_id: string }>) => new Map(rows.map((r) => [popKey(r.call_id, r.user_id), r.id]));

/** Stored pops: one per (call, agent), so a redelivered event never pops twice. */
export class PopStore {
  private acked: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(private readonly ds: DataSource) {}

  /**
   * Stores the pops of a batch of calls, one per (call, agent), in one statement, as `sent`:
   * they are emitted right after the transaction commits. Returns popId per `${callId}:${userId}`.
   */
  async saveAll(em: EntityManager, calls: CallPops): Promise<Map<string, string>> {
    const input = popsInput(calls);
    return input ? popIdsOf(await em.query(SAVE_POPS, [input])) : new Map();
  }

  /**
   * Acks arrive in bursts (ten agents per call): they are written together every few ms, without
   * waiting for the flush (decision 0013: an ack lost in a crash of PostgreSQL only leaves its
   * pop `sent`, and pops are replayed on connect whether acked or not).
   */
  markAcked(popId: string): void {
    this.acked.push(popId);
    this.flushTimer ??= setTimeout(() => void this.flushAcks(), ACK_FLUSH_MS);
  }

  async flushAcks(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const ids = this.acked.splice(0);
    if (ids.length === 0) return;
    await this.ds.query(MARK_ACKED, [JSON.stringify(ids)]).catch(() => undefined);
  }

  /**
   * Pops sent more than `olderThanMs` ago and never acknowledged, of calls still ringing, marked
   * sent again now. A pop emitted and lost (a worker killed between the commit and the emit, a
   * broadcast lost with Redis) reaches an agent who stays connected this way; one who connects
   * gets it from the replay anyway. Only the calls whose pops came due since the last run
   * (`since`, its `cutoff`) are looked at, found by their card's `updated_at` (written with their
   * pops, and again when they are sent again, so they come due again): reading the pops of every
   * ringing call cost PostgreSQL 40–117 ms a run when thousands rang, nearly all acknowledged.
   * Without `since` (a process's first run), every ringing call is.
   */
  async unacknowledged(olderThanMs: number, since: Date | null): Promise<{ pops: Array<{ id: string; user_id: string; payload: ScreenPopContent }>; cutoff: Date }> {
    const rows: Array<{ id: string | null; user_id: string; payload: ScreenPopContent; cutoff: Date | null }> = since
      ? await this.ds.query(UNACKNOWLEDGED_SINCE, [olderThanMs, since])
      : await this.ds.query(UNACKNOWLEDGED_OF_RINGING, [olderThanMs]);
    const cutoff = rows.find((r) => r.cutoff !== null)!.cutoff!;
    return { pops: rows.filter((r) => r.id !== null).map((r) => ({ id: r.id!, user_id: r.user_id, payload: r.payload })), cutoff };
  }

  /** Pops still relevant for a user who (re)connects: their call is still ringing. */
  async replayable(userId: string): Promise<Array<{ id: string; payload: ScreenPopContent }>> {
    return this.ds.query(REPLAYABLE, [userId]);
  }

  /** Dismisses the pops of these calls; returns, per call, every agent it popped for (dismissed before or now). */
  async dismiss(em: EntityManager, callIds: string[]): Promise<Map<string, string[]>> {
    if (callIds.length === 0) return new Map();
    // One statement: the update, and the agents (the select sees the snapshot before the update, which is all we need).
    const rows: Array<{ call_id: string; user_id: string }> = await em.query(
      `WITH dismissed AS (UPDATE screen_pops SET status = 'dismissed', dismissed_at = now() WHERE call_id = ANY($1::uuid[]) AND status <> 'dismissed')
       SELECT call_id, user_id FROM screen_pops WHERE call_id = ANY($1::uuid[])`,
      [callIds],
    );
    const byCall = new Map<string, string[]>();
    for (const r of rows) byCall.set(r.call_id, [...(byCall.get(r.call_id) ?? []), r.user_id]);
    return byCall;
  }
}

export const popKey = (callId: string, userId: string) => `${callId}:${userId}`;

/**
 * The pops of calls whose card was last written before `before`, with their cards, oldest first:
 * a call's pops are stored while it rings, so by then it is long over. A card being written
 * again at that moment is skipped (SKIP LOCKED), pops and all, until the next run.
 */
export const purgePops = (ds: DataSource): PurgeChunk =>
  purgeStatement(
    ds,
    `old AS (SELECT call_id FROM screen_pop_cards WHERE updated_at < $1 ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED),
     pops AS (DELETE FROM screen_pops p USING old WHERE p.call_id = old.call_id),
     gone AS (DELETE FROM screen_pop_cards k USING old WHERE k.call_id = old.call_id RETURNING 1)`,
  );
