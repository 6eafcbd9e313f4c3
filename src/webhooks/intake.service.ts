import type { DataSource } from "typeorm";
import { AppError } from "../platform/errors";
import type { Logger } from "../platform/logger";
import type { JobQueue } from "../platform/queue/jobs";

export interface Accepted<P> {
  inboxId: string;
  duplicate: boolean;
  /** The payload as first stored: a duplicate is answered from it, exactly like the first. */
  payload: P;
}

/**
 * Durable intake: a verified delivery is committed to the inbox before the provider gets its
 * answer, then enqueued (job id = inbox id). If the enqueue fails (Redis away) the row stays
 * pending and the sweeper enqueues it later; if the database fails, the provider gets a 503
 * and retries.
 */
export class WebhookIntake {
  constructor(private readonly ds: DataSource, private readonly queue: JobQueue, private readonly log: Logger) {}

  async accept<P extends object>(source: string, deliveryKey: string, payload: P): Promise<Accepted<P>> {
    let rows: Array<{ id: string; payload: P; inserted: boolean }>;
    try {
      rows = await this.ds.query(
        `WITH ins AS (
           INSERT INTO inbox (source, delivery_key, payload) VALUES ($1, $2, $3)
           ON CONFLICT (delivery_key) DO NOTHING RETURNING id, payload)
         SELECT id, payload, true AS inserted FROM ins
         UNION ALL SELECT id, payload, false FROM inbox WHERE delivery_key = $2 AND NOT EXISTS (SELECT 1 FROM ins)`,
        [source, deliveryKey.slice(0, 500), JSON.stringify(payload)],
      );
    } catch (err) {
      this.log.error({ err: (err as Error).message, source }, "inbox write failed");
      throw new AppError("unavailable", "Temporarily unable to accept the delivery; retry later", undefined, { cause: err });
    }
    // A concurrent first delivery of the same key commits after this statement's snapshot:
    // read it again in a new statement.
    const row = rows[0] ?? (await this.findByKey<P>(deliveryKey));
    if (!row) throw new AppError("unavailable", "Delivery raced with itself; retry");
    if (row.inserted) await this.enqueue(row.id);
    return { inboxId: row.id, duplicate: !row.inserted, payload: row.payload };
  }

  async findByKey<P>(deliveryKey: string): Promise<{ id: string; payload: P; inserted: boolean } | undefined> {
    const rows = await this.ds.query(`SELECT id, payload, false AS inserted FROM inbox WHERE delivery_key = $1`, [deliveryKey.slice(0, 500)]);
    return rows[0];
  }

  private async enqueue(inboxId: string): Promise<void> {
    try {
      await this.queue.enqueue("inbox.apply", { inboxId }, { jobId: `${inboxId}:0` });
    } catch (err) {
      this.log.warn({ inboxId, err: (err as Error).message }, "enqueue failed; the sweeper will pick the delivery up");
    }
  }
}
