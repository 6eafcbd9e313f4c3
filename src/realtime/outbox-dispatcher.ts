import type { DataSource, EntityManager } from "typeorm";
import type { CallContextService } from "../crm";
import type { OutboxTopics } from "../platform/outbox";
import type { PopStore } from "./pop-store";
import type { Realtime } from "./realtime.gateway";
import { roleRoom, userRoom } from "./realtime.gateway";

const BATCH = 100;
/** A row that keeps failing is parked as `failed` (visible in the table), never blocking others. */
const MAX_ATTEMPTS = 10;

interface OutboxRow {
  id: string;
  topic: keyof OutboxTopics;
  payload: OutboxTopics[keyof OutboxTopics];
}

/**
 * Pushes what the ingest committed to the outbox. Rows are claimed with SKIP LOCKED, so any
 * number of processes can dispatch; a row is marked done in the same transaction that stored
 * its pops, so a crash re-dispatches it (pops are unique per call and agent, clients dedupe by
 * popId).
 */
export class OutboxDispatcher {
  constructor(
    private readonly ds: DataSource,
    private readonly callContext: CallContextService,
    private readonly pops: PopStore,
    private readonly realtime: Realtime,
  ) {}

  /** Dispatches until nothing is pending; returns how many rows it handled. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.ds.transaction(async (em) => {
        const rows: OutboxRow[] = await em.query(
          `SELECT id, topic, payload FROM outbox WHERE status = 'pending' AND available_at <= now()
           ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
          [BATCH],
        );
        const after: Array<() => void> = [];
        const done: string[] = [];
        for (const row of rows) {
          // A savepoint per row: one bad row must not roll back (and so block) the others.
          await em.query("SAVEPOINT outbox_row");
          try {
            after.push(...(await this.handle(em, row)));
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
        return { count: rows.length, after };
      });
      // Emit once the pops are committed, so an ack always finds its row.
      for (const emit of n.after) emit();
      total += n.count;
      if (n.count < BATCH) return total;
    }
  }

  private async handle(em: EntityManager, row: OutboxRow): Promise<Array<() => void>> {
    switch (row.topic) {
      case "screen-pop": {
        const p = row.payload as OutboxTopics["screen-pop"];
        const content = await this.callContext.screenPop(p.callId);
        if (!content || content.call.status === "completed") return [];
        const popIds = await this.pops.saveAll(em, p.callId, p.userIds, content);
        return [...popIds].map(([userId, popId]) => () => this.realtime.sendPop(userId, { popId, ...content }));
      }
      case "call.update": {
        const u = row.payload as OutboxTopics["call.update"];
        // Answered or over: the pop goes away for everyone it reached.
        const popped = u.status !== "ringing" || u.answeredBy ? await this.pops.dismiss(em, u.callId) : [];
        const rooms = [roleRoom("supervisor"), roleRoom("admin"), ...popped.map(userRoom), ...(u.answeredBy ? [userRoom(u.answeredBy)] : [])];
        return [() => this.realtime.io.to(rooms).emit("call:update", u)];
      }
      case "task.assigned": {
        const t = row.payload as OutboxTopics["task.assigned"];
        const [task] = await em.query(
          `SELECT id, type, status, title, contact_id, call_id, assignee_id, due_at, attempts FROM tasks WHERE id = $1`,
          [t.taskId],
        );
        if (!task || task.status !== "open") return [];
        const message = {
          id: task.id,
          type: task.type,
          status: task.status,
          title: task.title,
          contactId: task.contact_id,
          callId: task.call_id,
          assigneeId: task.assignee_id,
          dueAt: new Date(task.due_at).toISOString(),
          attempts: task.attempts,
        };
        return [() => this.realtime.io.to(userRoom(t.assigneeId)).emit("task:assigned", message)];
      }
      default:
        return [];
    }
  }
}
