import type { DataSource, EntityManager } from "typeorm";
import { screenPopCardsSql, type CallContextService, type ScreenPopContent } from "../crm";
import { COMMIT_WITHOUT_FLUSH_WAIT } from "../platform/db/async-commit";
import { prepared } from "../platform/db/prepared";
import type { OutboxTopics } from "../platform/outbox";
import { popIdsOf, popKey, storePops, type PopStore } from "./pop-store";
import type { PopDelivery, TaskMessage } from "./realtime-events";
import type { Realtime } from "./realtime.gateway";
import { roleRoom, userRoom } from "./rooms";

const BATCH = 100;
/** A row that keeps failing is parked as `failed` (visible in the table), never blocking others. */
const MAX_ATTEMPTS = 10;
/**
 * Claims the oldest pending rows and marks them done in one statement; a rollback puts them back.
 * `= ANY(ARRAY(...))`, not `IN (...)`: the claimed ids are looked up by key whatever the
 * statistics say (with `IN`, stale statistics on a young table can make it a scan of every row).
 * Prepared, with its limit written in: it runs for every pop, and it has no value to plan for.
 * Its transaction commits without waiting for the flush (decision 0013): lost in a crash of
 * PostgreSQL, the rows are pending again, and their pops are made again.
 */
const CLAIM_AND_MARK_DONE = prepared(
  "outbox.claim",
  `UPDATE outbox SET status = 'done', attempts = attempts + 1, processed_at = now()
   WHERE id = ANY(ARRAY(SELECT id FROM outbox WHERE status = 'pending' AND available_at <= now() ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED))
     AND ${COMMIT_WITHOUT_FLUSH_WAIT}
   RETURNING id, topic, payload`,
);

/**
 * A row whose push needs nothing read but its call's card: a pop, or a ringing call's board
 * update (`dismisses` below, in SQL). A dismissal reads the agents it popped for, a task is read.
 */
const NEEDS_ONLY_ITS_CARD = `(topic = 'screen-pop' OR (topic = 'call.update' AND payload->>'status' = 'ringing' AND payload->>'answeredBy' IS NULL))`;

/**
 * The way of ringing calls, in one statement and no transaction (atomic all the same): reads the
 * oldest pending rows, claims those that need only their call's card (still pending: a row
 * another dispatcher claimed first is left to it), builds the cards of the calls they pop for,
 * stores the pops of those still ringing (storePops decides which), and answers all of it: the
 * claimed rows (`row`), the cards of ringing calls (`card`), the pops stored (`pop`), and `more`
 * when rows of other kinds were among the pending (the batch path takes those). The pending rows
 * are read without a lock, in one scan (a version that locked them first and looked for other
 * kinds in a second scan cost PostgreSQL more than the round trip it saved). Committed without
 * waiting for the flush, like CLAIM_AND_MARK_DONE.
 */
const CLAIM_RINGING = prepared(
  "outbox.claim-ringing+cards+screen_pops.save",
  `WITH pending AS (
     SELECT id, ${NEEDS_ONLY_ITS_CARD} AS ringing FROM outbox WHERE status = 'pending' AND available_at <= now() ORDER BY id LIMIT ${BATCH}),
   claimed AS (
     UPDATE outbox SET status = 'done', attempts = attempts + 1, processed_at = now()
     WHERE id = ANY(ARRAY(SELECT id FROM pending WHERE ringing)) AND status = 'pending' AND ${COMMIT_WITHOUT_FLUSH_WAIT}
     RETURNING id, topic, payload),
   cards AS (${screenPopCardsSql(`SELECT (payload->>'callId')::uuid FROM claimed WHERE topic = 'screen-pop'`)}),
   ${storePops(`SELECT k.id::text AS c, k.content AS p,
       (SELECT jsonb_agg(DISTINCT u) FROM claimed o CROSS JOIN LATERAL jsonb_array_elements_text(o.payload->'userIds') AS u
        WHERE o.topic = 'screen-pop' AND o.payload->>'callId' = k.id::text) AS u
     FROM cards k`)}
   SELECT 'row' AS kind, id::text AS id, topic, payload, NULL::uuid AS call_id, NULL::uuid AS user_id FROM claimed
   UNION ALL SELECT 'card', id::text, NULL, content, NULL, NULL FROM cards WHERE status = 'ringing'
   UNION ALL SELECT 'pop', id::text, NULL, NULL, call_id, user_id FROM saved
   UNION ALL SELECT 'more', NULL, NULL, NULL, NULL, NULL WHERE EXISTS (SELECT 1 FROM pending WHERE ringing IS NOT TRUE)`,
);

interface OutboxRow {
  id: string;
  topic: keyof OutboxTopics;
  payload: OutboxTopics[keyof OutboxTopics];
}

/** CLAIM_RINGING's rows, told apart by `kind`. */
interface RingingResult {
  kind: "row" | "card" | "pop" | "more";
  id: string | null;
  topic: OutboxRow["topic"] | null;
  payload: OutboxRow["payload"] | ScreenPopContent | null;
  call_id: string | null;
  user_id: string | null;
}

type Emit = () => void;
type Dispatched = { count: number; emits: Emit[] };

/**
 * Pushes what the ingest committed to the outbox. Any number of processes can dispatch: a row is
 * claimed by one of them, and marked done atomically with storing its pops (one statement, or
 * one transaction), so a crash re-dispatches it (pops are unique per call and agent, clients
 * dedupe by popId). A batch is handled in a few statements whatever its size (a burst of ringing
 * calls is one read of their cards, one insert of their pops); if that fails, row by row, so a
 * bad row cannot hold the others back.
 */
export class OutboxDispatcher {
  /** Where the last resend of unacknowledged pops looked up to (PostgreSQL's clock). */
  private resentUpTo: Date | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly callContext: CallContextService,
    private readonly pops: PopStore,
    private readonly realtime: Realtime,
  ) {}

  /**
   * Dispatches until nothing is pending. Returns how many rows it handled, and how many batches
   * failed and were replayed row by row (a bad row, or a bug: counted so that it shows).
   * `ringing`: a ringing call was applied since the last drain, so its rows are probably what is
   * pending, and the one-statement way is taken first (elsewhere it would mostly find nothing:
   * a call's end dismisses pops, a miss assigns a task); the batch path then takes what is left.
   */
  async drain(opts: { ringing?: boolean } = {}): Promise<{ handled: number; replayed: number }> {
    let handled = 0;
    let replayed = 0;
    let ringing = opts.ringing === true;
    for (;;) {
      let n: Dispatched & { more?: boolean };
      try {
        n = ringing ? await this.dispatchRinging() : await this.ds.transaction((em) => this.dispatchBatch(em));
      } catch {
        // Rolled back, rows pending again: row by row, so a bad row cannot hold the others back.
        replayed++;
        n = await this.ds.transaction((em) => this.dispatchRowByRow(em));
      }
      // Emit once the pops are committed, so an ack always finds its row.
      for (const emit of n.emits) emit();
      handled += n.count;
      if (n.count >= BATCH) continue;
      if (!n.more) return { handled, replayed };
      ringing = false;
    }
  }

  /**
   * The common case, ringing calls (their pops and the board's updates), in one round trip where
   * the batch path takes five (CLAIM_RINGING). A pop waits for it. Rows of other kinds are left
   * pending (`more`): a call's rows keep their order, as its dismissal and task come after its pop.
   */
  private async dispatchRinging(): Promise<Dispatched & { more: boolean }> {
    const rows: RingingResult[] = await this.ds.query(CLAIM_RINGING, []);
    const claimed = byId(rows.filter((r) => r.kind === "row").map((r) => ({ id: r.id!, topic: r.topic!, payload: r.payload as OutboxRow["payload"] })));
    const contents = new Map(rows.filter((r) => r.kind === "card").map((r) => [r.id!, r.payload as ScreenPopContent]));
    const popIds = popIdsOf(rows.flatMap((r) => (r.kind === "pop" ? [{ id: r.id!, call_id: r.call_id!, user_id: r.user_id! }] : [])));
    return {
      count: claimed.length,
      emits: this.emitsOf(claimed, contents, popIds, new Map(), new Map()),
      more: rows.some((r) => r.kind === "more"),
    };
  }

  /** The batch path: rows claimed and marked done in one statement, handled in a few more, in a transaction. */
  private async dispatchBatch(em: EntityManager): Promise<Dispatched> {
    // TypeORM answers an UPDATE with [rows, affected count].
    const [rows]: [OutboxRow[], number] = await em.query(CLAIM_AND_MARK_DONE, []);
    return { count: rows.length, emits: rows.length > 0 ? await this.handle(em, byId(rows)) : [] };
  }

  private async dispatchRowByRow(em: EntityManager): Promise<Dispatched> {
    const rows: OutboxRow[] = await em.query(
      `SELECT id, topic, payload FROM outbox WHERE status = 'pending' AND available_at <= now()
       ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [BATCH],
    );
    const emits: Emit[] = [];
    const done: string[] = [];
    for (const row of rows) {
      // A savepoint per row: one bad row must not roll back (and so block) the others.
      await em.query("SAVEPOINT outbox_row");
      try {
        emits.push(...(await this.handle(em, [row])));
        done.push(row.id);
      } catch (err) {
        await em.query("ROLLBACK TO SAVEPOINT outbox_row");
        await em.query(
          `UPDATE outbox SET attempts = attempts + 1, last_error = $2,
             status = CASE WHEN attempts + 1 >= $3 THEN 'failed' ELSE status END,
             available_at = now() + make_interval(secs => LEAST(300, 2 ^ attempts)) WHERE id = $1`,
          [row.id, String((err as Error).message).slice(0, 1000), MAX_ATTEMPTS],
        );
      }
    }
    if (done.length) {
      await em.query(`UPDATE outbox SET status = 'done', attempts = attempts + 1, processed_at = now() WHERE id = ANY($1::bigint[])`, [done]);
    }
    return { count: rows.length, emits };
  }

  /** Handles rows in one go; returns what to emit after commit, in the rows' order. */
  private async handle(em: EntityManager, rows: OutboxRow[]): Promise<Emit[]> {
    const { contents, live } = await this.popsOf(em, rows);
    const popIds = await this.pops.saveAll(em, live);
    // Pops stored just above are dismissed too when their call was answered in the same batch.
    const updates = payloads(rows, "call.update");
    const popped = await this.pops.dismiss(em, [...new Set(updates.filter(dismisses).map((u) => u.callId))]);
    const tasks = await this.openTasks(em, payloads(rows, "task.assigned").map((t) => t.taskId));
    return this.emitsOf(rows, contents, popIds, popped, tasks);
  }

  /** The cards of the rows' calls, and the pops to store. */
  private async popsOf(em: EntityManager, rows: OutboxRow[]) {
    const contents = await this.callContext.screenPops([...new Set(payloads(rows, "screen-pop").map((p) => p.callId))], em);
    return { contents, live: livePops(rows, contents) };
  }

  /**
   * What to emit once the rows' work is committed, in the rows' order; the batch's pops go
   * together, at its first pop's place (a call's pop still comes before its dismissal).
   */
  private emitsOf(
    rows: OutboxRow[],
    contents: Map<string, ScreenPopContent>,
    popIds: Map<string, string>,
    popped: Map<string, string[]>,
    tasks: Map<string, TaskMessage>,
  ): Emit[] {
    const pops = popDeliveries(payloads(rows, "screen-pop"), contents, popIds);
    const firstPop = rows.find((r) => r.topic === "screen-pop");
    return rows.flatMap((row): Emit[] => {
      switch (row.topic) {
        case "screen-pop":
          return row === firstPop && pops.length > 0 ? [() => this.realtime.sendPops(pops)] : [];
        case "call.update": {
          const u = row.payload as OutboxTopics["call.update"];
          // Answered or over: the pop goes away for everyone it reached.
          const reached = dismisses(u) ? (popped.get(u.callId) ?? []) : [];
          const rooms = [roleRoom("supervisor"), roleRoom("admin"), ...reached.map(userRoom), ...(u.answeredBy ? [userRoom(u.answeredBy)] : [])];
          return [() => this.realtime.io.to(rooms).emit("call:update", u)];
        }
        case "task.assigned": {
          const t = row.payload as OutboxTopics["task.assigned"];
          const task = tasks.get(t.taskId);
          return task ? [() => this.realtime.io.to(userRoom(t.assigneeId)).emit("task:assigned", task)] : [];
        }
        default:
          return [];
      }
    });
  }

  /**
   * Sends again the pops of ringing calls that nobody acknowledged (see PopStore.unacknowledged);
   * answers how many. Each run starts where this process's last one stopped, so runs missed
   * (a Redis outage stops the sweeps, and is when broadcasts are lost) are caught up.
   */
  async resendUnacknowledged(olderThanMs: number): Promise<number> {
    const { pops, cutoff } = await this.pops.unacknowledged(olderThanMs, this.resentUpTo);
    this.resentUpTo = cutoff;
    this.realtime.sendPops(pops.map((p) => ({ content: p.payload, to: [{ userId: p.user_id, popId: p.id }] })));
    return pops.length;
  }

  /** The tasks still open among these, as `task:assigned` messages. */
  private async openTasks(em: EntityManager, taskIds: string[]): Promise<Map<string, TaskMessage>> {
    if (taskIds.length === 0) return new Map();
    const rows = await em.query(
      `SELECT id, type, status, title, contact_id, call_id, assignee_id, due_at, attempts FROM tasks WHERE id = ANY($1::uuid[]) AND status = 'open'`,
      [taskIds],
    );
    return new Map(
      rows.map((t: TaskRow): [string, TaskMessage] => [
        t.id,
        { id: t.id, type: t.type, status: t.status, title: t.title, contactId: t.contact_id, callId: t.call_id, assigneeId: t.assignee_id, dueAt: new Date(t.due_at).toISOString(), attempts: t.attempts },
      ]),
    );
  }
}

interface TaskRow {
  id: string;
  type: string;
  status: string;
  title: string;
  contact_id: string | null;
  call_id: string | null;
  assignee_id: string | null;
  due_at: Date;
  attempts: number;
}

/**
 * The screen-pop rows' pops to store, with their cards: only a call still ringing pops. One
 * answered or over (its ringing row dispatched late: retried, or applied after the answer)
 * pops for no one, as its dismissal has gone or goes to the agents it found popped.
 */
const livePops = (rows: OutboxRow[], contents: Map<string, ScreenPopContent>) =>
  payloads(rows, "screen-pop").flatMap((p) => {
    const content = contents.get(p.callId);
    return content && content.call.status === "ringing" ? [{ ...p, content }] : [];
  });

/** Each call's pops (its card once, each agent's pop id once), of the pops stored. */
function popDeliveries(rows: Array<OutboxTopics["screen-pop"]>, contents: Map<string, ScreenPopContent>, popIds: Map<string, string>): PopDelivery[] {
  const byCall = new Map<string, PopDelivery>();
  for (const p of rows) {
    const content = contents.get(p.callId);
    if (!content) continue;
    for (const userId of p.userIds) {
      const popId = popIds.get(popKey(p.callId, userId));
      if (!popId) continue;
      let call = byCall.get(p.callId);
      if (!call) byCall.set(p.callId, (call = { content, to: [] }));
      if (!call.to.some((t) => t.userId === userId)) call.to.push({ userId, popId });
    }
  }
  return [...byCall.values()];
}

const payloads = <T extends keyof OutboxTopics>(rows: OutboxRow[], topic: T) =>
  rows.filter((r) => r.topic === topic).map((r) => r.payload as OutboxTopics[T]);

/** A call answered or over no longer pops for anyone. */
const dismisses = (u: OutboxTopics["call.update"]) => u.status !== "ringing" || u.answeredBy !== null;

/** RETURNING keeps no order: the rows' order is the order of their pushes. */
const byId = <R extends { id: string }>(rows: R[]) => rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
