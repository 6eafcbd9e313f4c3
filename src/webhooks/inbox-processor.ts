import type { DataSource, EntityManager } from "typeorm";
import { COMMIT_WITHOUT_FLUSH_WAIT } from "../platform/db/async-commit";
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

// Both lock statements also make their transaction's commit asynchronous (decision 0013).
const LOCK_ROW = prepared("inbox.lock", `SELECT id, source, payload, status, attempts, received_at FROM inbox WHERE id = $1 AND ${COMMIT_WITHOUT_FLUSH_WAIT} FOR UPDATE`);
const MARK_DONE = prepared("inbox.done", `UPDATE inbox SET status = 'done', attempts = attempts + 1, processed_at = now(), last_error = NULL WHERE id = $1`);
const MARK_IGNORED = `UPDATE inbox SET status = 'ignored', attempts = attempts + 1, processed_at = now() WHERE id = $1`;
// The lock timeout is set in the statement that takes the first locks (set_config is volatile, so
// it runs in the scan, before the rows are locked): one round trip, not two.
const LOCK_ROWS = prepared(
  "inbox.lock-many",
  `SELECT id, source, payload, status, attempts, received_at FROM inbox
   WHERE id = ANY($1::uuid[]) AND set_config('lock_timeout', $2, true) IS NOT NULL AND ${COMMIT_WITHOUT_FLUSH_WAIT} ORDER BY id FOR UPDATE`,
);
const MARK_DONE_MANY = prepared("inbox.done-many", `UPDATE inbox SET status = 'done', attempts = attempts + 1, processed_at = now(), last_error = NULL WHERE id = ANY($1::uuid[])`);

/**
 * How long a shared transaction waits for a lock before it gives up and its deliveries are
 * applied one by one. A worker never puts one call in two of its transactions at once (lanes,
 * InboxBatcher), but two workers can, and rows other than the call's (a contact's open task)
 * are shared too: two shared transactions could lock such rows in opposite orders. This ends
 * such a wait quickly instead of after PostgreSQL's deadlock check (a second).
 */
const BATCH_LOCK_TIMEOUT = "200ms";

export type ProcessResult = "done" | "deferred" | "ignored" | "skipped";

/**
 * After this many failures a delivery is parked as `failed` (visible, never dropped). Failures,
 * not attempts: a delivery deferred while it waited for its call has tried many times without
 * failing, and one failure (a database restart) must not park it.
 */
export const MAX_ATTEMPTS = 10;
/** A failed delivery is available to the sweeper again after 2^attempts s, at most this long. */
const MAX_FAILURE_BACKOFF_SECONDS = 600;
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

  async process(inboxId: string): Promise<ProcessResult> {
    try {
      return await this.ds.transaction(async (em) => {
        const [row]: InboxRow[] = await em.query(LOCK_ROW, [inboxId]);
        if (!row || !pending(row)) return "skipped";
        // The delivery's audit entries and pushes are written in one statement with its "done".
        const outcome = await DeferredWrites.around(
          em,
          () => this.apply(em, row),
          (result) => (result === "applied" ? { sql: MARK_DONE, params: [row.id] } : undefined),
        );
        return this.settle(em, row, outcome);
      });
    } catch (err) {
      const message = (err as Error).message?.slice(0, 1000) ?? String(err);
      // Not before a backoff: the sweeper takes a pending row only once it is available again,
      // so that it adds no attempts to the queue's own retries (it used to park a delivery that
      // failed for a minute as failed).
      await this.ds
        .query(
          `UPDATE inbox SET attempts = attempts + 1, failures = failures + 1, last_error = $2,
             status = CASE WHEN failures + 1 >= $3 THEN 'failed' ELSE status END,
             available_at = now() + make_interval(secs => LEAST(${MAX_FAILURE_BACKOFF_SECONDS}, 2 ^ failures)) WHERE id = $1`,
          [inboxId, message, MAX_ATTEMPTS],
        )
        .catch(() => undefined);
      this.log.warn({ inboxId, err: message }, "inbox delivery failed to apply");
      throw err;
    }
  }

  /**
   * Applies several deliveries in one transaction, in the order they were received: one BEGIN,
   * one lock statement, one COMMIT, and one statement for all their audit entries, pushes and
   * "done" marks, instead of one of each per delivery. All or nothing: on any failure (a bad
   * delivery, a lock wait past BATCH_LOCK_TIMEOUT) nothing is kept and it returns undefined, so
   * the caller applies them one by one with `process`, which counts a failure against its own
   * delivery only.
   */
  async processMany(inboxIds: string[]): Promise<Map<string, ProcessResult> | undefined> {
    try {
      return await this.ds.transaction(async (em) => {
        const rows: InboxRow[] = await em.query(LOCK_ROWS, [inboxIds, BATCH_LOCK_TIMEOUT]);
        const results = new Map<string, ProcessResult>(inboxIds.map((id) => [id, "skipped"]));
        const applied: string[] = [];
        // Locked in id order (two batches never wait on each other's inbox rows); applied in the order given.
        const position = new Map(inboxIds.map((id, i) => [id, i]));
        rows.sort((a, b) => position.get(a.id)! - position.get(b.id)!);
        await DeferredWrites.around(
          em,
          async () => {
            for (const row of rows.filter(pending)) {
              // What the previous delivery left to run with the closing statement: this one may read it.
              await DeferredWrites.runWaitingStatements(em);
              const outcome = await this.apply(em, row);
              if (outcome === "applied") applied.push(row.id);
              results.set(row.id, await this.settle(em, row, outcome));
            }
          },
          () => (applied.length > 0 ? { sql: MARK_DONE_MANY, params: [applied] } : undefined),
        );
        return results;
      });
    } catch (err) {
      this.log.debug({ deliveries: inboxIds.length, err: (err as Error).message }, "shared transaction failed; applying its deliveries one by one");
      return undefined;
    }
  }

  /** Runs the source's handler; a source without one has nothing to apply. */
  private apply(em: EntityManager, row: InboxRow): Promise<InboxOutcome> {
    const handler = this.handlers[row.source];
    return handler ? handler(em, row.payload, { inboxId: row.id, receivedAt: new Date(row.received_at) }) : Promise.resolve("ignored");
  }

  /** Marks an ignored or deferred delivery; an applied one is marked with its deferred writes. */
  private async settle(em: EntityManager, row: InboxRow, outcome: InboxOutcome): Promise<ProcessResult> {
    if (outcome === "ignored") await em.query(MARK_IGNORED, [row.id]);
    if (outcome === "deferred") await this.defer(em, row);
    return outcome === "applied" ? "done" : outcome;
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

const pending = (row: InboxRow) => row.status === "pending" || row.status === "deferred";
