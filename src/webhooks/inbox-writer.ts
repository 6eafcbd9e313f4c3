import type { DataSource } from "typeorm";
import type { Logger } from "../platform/logger";
import { prepared } from "../platform/db/prepared";
import type { ApplyHints, JobPayloads, JobQueue } from "../platform/queue/jobs";
import { MAX_BATCH as APPLY_BATCH } from "./inbox-batcher";

export interface InboxRow<P> {
  id: string;
  payload: P;
  /** False when the delivery key was already there (a redelivery). */
  inserted: boolean;
}

interface Row {
  key: string;
  id: string | null;
  payload: unknown;
  inserted: boolean;
}

type ApplyPayload = JobPayloads["inbox.apply"];

interface JobDelivery {
  inboxId: string;
  hints: ApplyHints;
}

interface Pending {
  source: string;
  key: string;
  payload: string;
  /** The payload as given: a new row's caller gets it back without a round trip through jsonb. */
  value: unknown;
  hints: ApplyHints;
  resolve(row: InboxRow<unknown> | undefined): void;
  reject(err: unknown): void;
}

/**
 * Applies a committed delivery in this process; undefined when it cannot take it now (the
 * delivery then goes to the queue). The promise fails when applying failed.
 */
export type LocalApply = (inboxId: string, hints: ApplyHints) => Promise<void> | undefined;

/** Enough to make one statement carry a burst; small enough to keep its latency low. */
const MAX_BATCH = 256;
/**
 * Statements in flight at once: while one runs, new deliveries gather into the next batch. One,
 * not two: under load a second statement only halved the batches (in alternating runs of the
 * bench's ack load, 2,100 → 2,400/s and PostgreSQL's CPU per delivery −28%, p99 no worse), and
 * when idle a delivery is written at once either way.
 */
const MAX_IN_FLIGHT = 1;

/**
 * Deliveries in one `inbox.apply-batch` job at most: one shared transaction's worth for the
 * worker (InboxBatcher), so that a worker's running batch jobs hold a bounded backlog.
 */
const JOB_DELIVERIES = APPLY_BATCH.other;

const chunks = <T>(items: T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/**
 * The batch travels as one JSON array (payloads are already JSON text, so it is concatenated,
 * not encoded again): as a jsonb[] parameter, pg escaped every quote of every payload again.
 * Prepared, its plan is generic and blind to the batch's size: the redeliveries are looked up
 * by a lateral subquery (its LIMIT keeps the planner from flattening it into a join), an index
 * lookup per key whatever the estimate; a plain join was planned as a scan of the whole inbox
 * for a guessed 100 keys.
 */
export const INBOX_INSERT_BATCH = prepared(
  "inbox_insert_batch",
  `WITH input AS (
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(source text, key text, payload jsonb)),
   ins AS (
     INSERT INTO inbox (source, delivery_key, payload) SELECT source, key, payload FROM input ORDER BY key
     ON CONFLICT (delivery_key) DO NOTHING RETURNING id, delivery_key)
   SELECT i.key, COALESCE(ins.id, ex.id) AS id, ex.payload, ins.id IS NOT NULL AS inserted
   FROM input i LEFT JOIN ins ON ins.delivery_key = i.key
   LEFT JOIN LATERAL (SELECT id, payload FROM inbox WHERE delivery_key = i.key AND ins.id IS NULL LIMIT 1) ex ON true`,
);

/**
 * Group commit for the inbox. Deliveries arriving while earlier ones are being written are
 * inserted together in one statement (one commit, one round trip) and enqueued together (one
 * round trip, after their callers are answered); each caller still learns about its own row. Idle, a delivery is written at once,
 * alone: batching adds no wait, it only happens under load.
 */
export class InboxWriter {
  private readonly waiting: Pending[] = [];
  private inFlight = 0;
  /** Committed deliveries waiting to fill a batch job with the next statement's (see enqueue). */
  private held: ApplyPayload[] = [];
  /** Set while this process also applies deliveries: see WebhookIntake.applyRingingHere. */
  applyHere: LocalApply | undefined;

  constructor(
    private readonly ds: DataSource,
    private readonly queue: JobQueue,
    private readonly log: Logger,
  ) {}

  /** Resolves once the row is committed (its enqueue follows); undefined when a concurrent writer of the same key has not committed yet. */
  write<P>(source: string, key: string, payload: P, hints: Pending["hints"] = {}): Promise<InboxRow<P> | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ source, key, payload: JSON.stringify(payload), value: payload, hints, resolve: resolve as Pending["resolve"], reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, MAX_BATCH);
      this.inFlight++;
      void this.flush(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    // The same key twice in one batch: the first is written, the others are its redeliveries.
    const firstOf = new Map<string, Pending>();
    for (const p of batch) if (!firstOf.has(p.key)) firstOf.set(p.key, p);
    const unique = [...firstOf.values()];
    let rows: Row[];
    try {
      rows = await this.insert(unique);
    } catch (err) {
      // One bad delivery must not fail the others it was batched with: write them one by one.
      if (unique.length > 1) {
        await Promise.all(unique.map((p) => this.flush(batch.filter((b) => b.key === p.key))));
        return;
      }
      for (const p of batch) p.reject(err);
      this.enqueue([], { hold: false }); // what earlier statements held waits no longer
      return;
    }
    const byKey = new Map(rows.map((r) => [r.key, r]));
    // Committed: the providers get their answers now. The enqueue is the fast path only (a
    // delivery it misses is found by the sweeper), so nobody waits for Redis.
    for (const p of batch) {
      const r = byKey.get(p.key);
      if (!r?.id) p.resolve(undefined);
      else p.resolve({ id: r.id, payload: r.inserted ? firstOf.get(p.key)!.value : r.payload, inserted: r.inserted && firstOf.get(p.key) === p });
    }
    const inserted: JobDelivery[] = rows.flatMap((r) => (r.inserted && r.id ? [{ inboxId: r.id, hints: firstOf.get(r.key)!.hints }] : []));
    // A ringing call's delivery is applied here when this process runs the jobs and can take it;
    // if that fails it goes to the queue like the rest, for the queue's retries.
    const queued = inserted.filter((d) => {
      const applying = d.hints.ringing ? this.applyHere?.(d.inboxId, d.hints) : undefined;
      applying?.catch(() => this.enqueue([d]));
      return applying === undefined;
    });
    this.enqueue(queued);
  }

  /**
   * Deliveries committed together are `inbox.apply-batch` jobs of up to JOB_DELIVERIES each: a
   * Bull job costs the web process and Redis about as much as the inbox statement, and a worker
   * as much again to take and finish it (decision 0014). Under load, a statement's deliveries
   * that do not fill a job wait for the next statement's, which is already certain (deliveries
   * are waiting for it), so jobs fill up: a few milliseconds later, in fewer jobs. Idle, or
   * when a statement fails, nothing waits. A lone delivery is one `inbox.apply` job (job id =
   * inbox id + attempt 0), and so is a ringing call's, at once: its pop waits, and a batch job
   * holds its worker's slot until its last delivery is applied.
   */
  private enqueue(deliveries: JobDelivery[], { hold = this.waiting.length > 0 } = {}): void {
    const payloads: ApplyPayload[] = deliveries.map((d) => ({ inboxId: d.inboxId, ...d.hints }));
    const ringing = payloads.filter((p) => p.ringing);
    const rest = [...this.held, ...payloads.filter((p) => !p.ringing)];
    const ready = hold ? rest.length - (rest.length % JOB_DELIVERIES) : rest.length;
    this.held = rest.slice(ready);
    const now = rest.slice(0, ready);
    // A lone non-ringing delivery gains nothing from a batch job: it goes single with the ringing ones.
    const [singles, batches] = now.length > 1 ? [ringing, chunks(now, JOB_DELIVERIES)] : [[...ringing, ...now], []];
    const failed = (err: Error) => this.log.warn({ deliveries: singles.length + now.length, err: err.message }, "enqueue failed; the sweeper will pick the deliveries up");
    if (singles.length > 0) this.queue.enqueueMany("inbox.apply", singles.map((p) => ({ payload: p, opts: { jobId: `${p.inboxId}:0` } }))).catch(failed);
    if (batches.length > 0) {
      this.queue.enqueueMany("inbox.apply-batch", batches.map((batch) => ({ payload: { deliveries: batch }, opts: { jobId: `batch:${batch[0]!.inboxId}` } }))).catch(failed);
    }
  }

  /** One statement: new rows are inserted (in key order, so two batches never deadlock), existing ones read (only theirs carry a payload back). */
  private insert(unique: Pending[]): Promise<Row[]> {
    const input = unique.map((p) => `{"source":${JSON.stringify(p.source)},"key":${JSON.stringify(p.key)},"payload":${p.payload}}`);
    return this.ds.query(INBOX_INSERT_BATCH, [`[${input.join(",")}]`]);
  }
}
