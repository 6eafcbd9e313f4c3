import type { DataSource, EntityManager } from "typeorm";
import { DeferredWrites } from "../platform/db/deferred-writes";
import { prepared } from "../platform/db/prepared";
import type { Logger } from "../platform/logger";
import type { JobQueue } from "../platform/queue/jobs";

/**
 * What applying a delivery came to. `deferred`: it names something not here yet (a recording
 * before its call) and nothing was written; it is retried later. `ignored`: nothing to apply.
 */
export type InboxOutcome = "applied" | "deferred" | "ignored";

/** Applies one source's stored payload inside the inbox row's transaction. */
export type InboxHandler = (em: EntityManager, payload: unknown, delivery: { inboxId: string; receivedAt: Date }) => Promise<InboxOutcome>;

const LOCK_ROW = prepared("inbox.lock", `SELECT id, source, payload, status, attempts, received_at FROM inbox WHERE id = $1 FOR UPDATE`);
const MARK_DONE = prepared("inbox.done", `UPDATE inbox SET status = 'done', attempts = attempts + 1, processed_at = now(), last_error = NULL WHERE id = $1`);

/** After this many failed attempts a delivery is parked as `failed` (visible, never dropped). */
export const MAX_ATTEMPTS = 10;
/** A delivery waiting for its call (recording, agent leg) is retried with backoff up to this long. */
const MAX_DEFER_MS = 7 * 24 * 3600_000;

export interface InboxRow {
  id: string;
  source: string;
  payload: unknown;
  status: string;
  attempts: number;
  received_at: Date;
}

/**
 * Applies one inbox row in one transaction with its source's handler, then marks the row done. A row already done is skipped, so a job that runs twice (a stalled
 * Bull job, a sweeper re-enqueue) changes nothing the second time.
 */
export class InboxProcessor {
  constructor(
    private readonly ds: DataSource,
    private readonly handlers: Record<string, InboxHandler>,
    private readonly log: Logger,
    private readonly queue?: JobQueue,
  ) {}

  async process(inboxId: string): Promise<"done" | "deferred" | "ignored" | "skipped"> {
    try {
      return await this.ds.transaction(async (em) => {
        const [row]: InboxRow[] = await em.query(LOCK_ROW, [inboxId]);
        if (!row || !["pending", "deferred"].includes(row.status)) return "skipped";
        const handler = this.handlers[row.source];
        // The delivery's audit entries and pushes are written in one statement with its "done".
        const outcome = handler
          ? await DeferredWrites.around(
              em,
              () => handler(em, row.payload, { inboxId: row.id, receivedAt: new Date(row.received_at) }),
              (result) => (result === "applied" ? { sql: MARK_DONE, params: [row.id], name: "inbox.done" } : undefined),
            )
          : "ignored";
        if (outcome === "ignored") {
          await em.query(`UPDATE inbox SET status = 'ignored', attempts = attempts + 1, processed_at = now() WHERE id = $1`, [row.id]);
          return "ignored";
        }
        if (outcome === "deferred") {
          await this.defer(em, row);
          return "deferred";
        }
        return "done"; // marked with the delivery's deferred writes
      });
    } catch (err) {
      const message = (err as Error).message?.slice(0, 1000) ?? String(err);
      await this.ds
        .query(
          `UPDATE inbox SET attempts = attempts + 1, last_error = $2,
             status = CASE WHEN attempts + 1 >= $3 THEN 'failed' ELSE status END WHERE id = $1`,
          [inboxId, message, MAX_ATTEMPTS],
        )
        .catch(() => undefined);
      this.log.warn({ inboxId, err: message }, "inbox delivery failed to apply");
      throw err;
    }
  }

  private async defer(em: EntityManager, row: InboxRow): Promise<void> {
    const waitedMs = Date.now() - new Date(row.received_at).getTime();
    // Usually the call is only a moment behind (its first event is being applied right now).
    const delayMs = Math.min(250 * 2 ** Math.min(row.attempts, 12), 10 * 60_000);
    // Retry on time without waiting for the sweeper; the sweeper remains the safety net.
    this.queue
      ?.enqueue("inbox.apply", { inboxId: row.id }, { jobId: `${row.id}:${row.attempts + 1}`, delayMs })
      .catch(() => undefined);
    await em.query(
      `UPDATE inbox SET status = $2, attempts = attempts + 1, available_at = now() + ($3 || ' milliseconds')::interval,
         last_error = 'waiting for its call to arrive' WHERE id = $1`,
      [row.id, waitedMs > MAX_DEFER_MS ? "failed" : "deferred", String(delayMs)],
    );
  }
}
