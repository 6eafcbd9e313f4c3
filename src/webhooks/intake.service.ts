import type { DataSource } from "typeorm";
import { AppError } from "../platform/errors";
import type { Logger } from "../platform/logger";
import type { ApplyHints, JobQueue } from "../platform/queue/jobs";
import { InboxWriter, type InboxRow, type LocalApply } from "./inbox-writer";

/** Delivery keys are cut to this length wherever they are written or looked up. */
const MAX_KEY = 500;

export interface Accepted<P> {
  inboxId: string;
  duplicate: boolean;
  /** The payload as first stored: a duplicate is answered from it, exactly like the first. */
  payload: P;
}

/**
 * Durable intake: a verified delivery is committed to the inbox before the provider gets its
 * answer, then enqueued (job id = inbox id); concurrent deliveries share one statement and one
 * enqueue round trip (InboxWriter). If the enqueue fails (Redis away) the row stays
 * pending and the sweeper enqueues it later; if the database fails, the provider gets a 503
 * and retries.
 */
export class WebhookIntake {
  private readonly writer: InboxWriter;

  constructor(private readonly ds: DataSource, queue: JobQueue, private readonly log: Logger) {
    this.writer = new InboxWriter(ds, queue, log);
  }

  /** `apply`: the call the delivery is about and whether it rings now, when known (see JobPayloads["inbox.apply"]). */
  async accept<P extends object>(source: string, deliveryKey: string, payload: P, apply: ApplyHints = {}): Promise<Accepted<P>> {
    const key = deliveryKey.slice(0, MAX_KEY);
    let row: InboxRow<P> | undefined;
    try {
      row = await this.writer.write(source, key, payload, { lane: apply.lane?.slice(0, MAX_KEY), ringing: apply.ringing });
    } catch (err) {
      this.log.error({ err: (err as Error).message, source }, "inbox write failed");
      throw new AppError("unavailable", "Temporarily unable to accept the delivery; retry later", undefined, { cause: err });
    }
    // A concurrent first delivery of the same key commits after this statement's snapshot:
    // read it again in a new statement.
    row ??= await this.findByKey<P>(key);
    if (!row) throw new AppError("unavailable", "Delivery raced with itself; retry");
    return { inboxId: row.id, duplicate: !row.inserted, payload: row.payload };
  }

  /**
   * A process that also runs the jobs applies the ringing calls it receives itself, right after
   * their commit, instead of enqueueing them: the pop does not wait for a queue round trip and
   * a job's pickup (decision 0012). Undefined stops it (at shutdown). A crash in between leaves
   * the row pending, and the sweeper enqueues it.
   */
  applyRingingHere(apply: LocalApply | undefined): void {
    this.writer.applyHere = apply;
  }

  private async findByKey<P>(deliveryKey: string): Promise<{ id: string; payload: P; inserted: boolean } | undefined> {
    const rows = await this.ds.query(`SELECT id, payload, false AS inserted FROM inbox WHERE delivery_key = $1`, [deliveryKey.slice(0, MAX_KEY)]);
    return rows[0];
  }
}
