import type { DataSource, EntityManager } from "typeorm";
import type { CallContextService } from "../crm";
import { prepared } from "../platform/db/prepared";
import type { OutboxTopics } from "../platform/outbox";
import { popKey, type PopStore } from "./pop-store";
import type { TaskMessage } from "./realtime-events";
import type { Realtime } from "./realtime.gateway";
import { roleRoom, userRoom } from "./realtime.gateway";

const BATCH = 100;
/** A row that keeps failing is parked as `failed` (visible in the table), never blocking others. */
const MAX_ATTEMPTS = 10;
/**
 * Claims the oldest pending rows and marks them done in one statement; a rollback puts them back.
 * `= ANY(ARRAY(...))`, not `IN (...)`: the claimed ids are looked up by key whatever the
 * statistics say (with `IN`, stale statistics on a young table can make it a scan of every row).
 * Prepared, with its limit written in: it runs for every pop, and it has no value to plan for.
 */
const CLAIM_AND_MARK_DONE = prepared(
  "outbox.claim",
  `UPDATE outbox SET status = 'done', attempts = attempts + 1, processed_at = now()
   WHERE id = ANY(ARRAY(SELECT id FROM outbox WHERE status = 'pending' AND available_at <= now() ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED))
   RETURNING id, topic, payload`,
);

interface OutboxRow {
  id: string;
  topic: keyof OutboxTopics;
  payload: OutboxTopics[keyof OutboxTopics];
}

type Emit = () => void;

/**
 * Pushes what the ingest committed to the outbox. Rows are claimed with SKIP LOCKED, so any
 * number of processes can dispatch; a row is marked done in the same transaction that stored
 * its pops, so a crash re-dispatches it (pops are unique per call and agent, clients dedupe by
 * popId). A claimed batch is handled in a few statements whatever its size (a burst of ringing
 * calls is one read of their cards, one insert of their pops); if that fails, row by row, so a
 * bad row cannot hold the others back.
 */
export class OutboxDispatcher {
  constructor(
    private readonly ds: DataSource,
    private readonly callContext: CallContextService,
    private readonly pops: PopStore,
    private readonly realtime: Realtime,
  ) {}

  /**
   * Dispatches until nothing is pending. Returns how many rows it handled, and how many batches
   * failed and were replayed row by row (a bad row, or a bug: counted so that it shows).
   */
  async drain(): Promise<{ handled: number; replayed: number }> {
    let handled = 0;
    let replayed = 0;
    for (;;) {
      let n: { count: number; emits: Emit[] };
      try {
        n = await this.ds.transaction((em) => this.dispatchBatch(em));
      } catch {
        // Rolled back, rows pending again: row by row, so a bad row cannot hold the others back.
        replayed++;
        n = await this.ds.transaction((em) => this.dispatchRowByRow(em));
      }
      // Emit once the pops are committed, so an ack always finds its row.
      for (const emit of n.emits) emit();
      handled += n.count;
      if (n.count < BATCH) return { handled, replayed };
    }
  }

  /** The fast path: rows claimed and marked done in one statement, handled in a few more. */
  private async dispatchBatch(em: EntityManager): Promise<{ count: number; emits: Emit[] }> {
    // TypeORM answers an UPDATE with [rows, affected count].
    const [rows]: [OutboxRow[], number] = await em.query(CLAIM_AND_MARK_DONE, []);
    // RETURNING keeps no order: the rows' order is the order of their pushes.
    rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    return { count: rows.length, emits: rows.length > 0 ? await this.handle(em, rows) : [] };
  }

  private async dispatchRowByRow(em: EntityManager): Promise<{ count: number; emits: Emit[] }> {
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
    const pops = payloads(rows, "screen-pop");
    const contents = await this.callContext.screenPops([...new Set(pops.map((p) => p.callId))], em);
    // A call already over pops for no one.
    const live = pops.flatMap((p) => {
      const content = contents.get(p.callId);
      return content && content.call.status !== "completed" ? [{ ...p, content }] : [];
    });
    const popIds = await this.pops.saveAll(em, live);
    // Pops stored just above are dismissed too when their call was answered in the same batch.
    const updates = payloads(rows, "call.update");
    const popped = await this.pops.dismiss(em, [...new Set(updates.filter(dismisses).map((u) => u.callId))]);
    const tasks = await this.openTasks(em, payloads(rows, "task.assigned").map((t) => t.taskId));

    return rows.flatMap((row): Emit[] => {
      switch (row.topic) {
        case "screen-pop": {
          const p = row.payload as OutboxTopics["screen-pop"];
          const content = contents.get(p.callId);
          if (!content) return [];
          return p.userIds.flatMap((userId) => {
            const popId = popIds.get(popKey(p.callId, userId));
            return popId ? [() => this.realtime.sendPop(userId, { popId, ...content })] : [];
          });
        }
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

const payloads = <T extends keyof OutboxTopics>(rows: OutboxRow[], topic: T) =>
  rows.filter((r) => r.topic === topic).map((r) => r.payload as OutboxTopics[T]);

/** A call answered or over no longer pops for anyone. */
const dismisses = (u: OutboxTopics["call.update"]) => u.status !== "ringing" || u.answeredBy !== null;
