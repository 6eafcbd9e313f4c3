import type { Logger } from "../logger";
import { RETRY, backoffDelay, type EnqueueOptions, type JobHandler, type JobName, type JobPayloads, type JobQueue } from "./jobs";

interface PendingJob {
  name: JobName;
  payload: unknown;
  jobId: string | undefined;
  attemptsMade: number;
  enqueuedAt: number;
}

/**
 * Embedded mode's queue: jobs run in this process with Bull's retry semantics (attempts,
 * exponential backoff, jobId dedupe while queued). Jobs not started at shutdown are simply
 * dropped: their inbox/outbox rows are still pending, and the sweeper enqueues them again.
 */
export class InProcessQueue implements JobQueue {
  readonly kind = "in-process" as const;
  private readonly handlers = new Map<JobName, { handler: JobHandler<JobName>; concurrency: number }>();
  private readonly waiting = new Map<JobName, PendingJob[]>();
  private readonly running = new Map<JobName, number>();
  private readonly knownIds = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  /** The jobs running now. */
  private readonly started = new Set<PendingJob>();
  private closed = false;

  constructor(private readonly log: Logger) {}

  async enqueue<N extends JobName>(name: N, payload: JobPayloads[N], opts: EnqueueOptions = {}): Promise<void> {
    if (this.closed) throw new Error("queue is closed");
    if (opts.jobId) {
      const key = `${name}:${opts.jobId}`;
      if (this.knownIds.has(key)) return;
      this.knownIds.add(key);
    }
    const job: PendingJob = { name, payload, jobId: opts.jobId, attemptsMade: 0, enqueuedAt: Date.now() };
    if (opts.delayMs && opts.delayMs > 0) this.later(job, opts.delayMs);
    else this.push(job);
  }

  async enqueueMany<N extends JobName>(name: N, jobs: Array<{ payload: JobPayloads[N]; opts?: EnqueueOptions }>): Promise<void> {
    for (const j of jobs) await this.enqueue(name, j.payload, j.opts);
  }

  process<N extends JobName>(name: N, handler: JobHandler<N>, concurrency = 4): void {
    if (this.handlers.has(name)) throw new Error(`job ${name} already has a processor`);
    this.handlers.set(name, { handler: handler as JobHandler<JobName>, concurrency });
    this.drain(name);
  }

  async depth(): Promise<number> {
    let n = this.timers.size;
    for (const q of this.waiting.values()) n += q.length;
    for (const r of this.running.values()) n += r;
    return n;
  }

  async oldestQueued(names: readonly JobName[]): Promise<number | undefined> {
    let oldest: number | undefined;
    for (const j of this.started) if (names.includes(j.name) && (oldest === undefined || j.enqueuedAt < oldest)) oldest = j.enqueuedAt;
    for (const name of names) for (const j of this.waiting.get(name) ?? []) if (oldest === undefined || j.enqueuedAt < oldest) oldest = j.enqueuedAt;
    return oldest;
  }

  async ping(): Promise<boolean> {
    return !this.closed;
  }

  /** Idempotent: a second call just waits for the same running jobs. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.waiting.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private later(job: PendingJob, delayMs: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.push(job);
    }, delayMs);
    t.unref();
    this.timers.add(t);
  }

  private push(job: PendingJob): void {
    if (this.closed) return;
    const q = this.waiting.get(job.name) ?? [];
    q.push(job);
    this.waiting.set(job.name, q);
    this.drain(job.name);
  }

  private drain(name: JobName): void {
    const reg = this.handlers.get(name);
    const q = this.waiting.get(name);
    if (!reg || !q) return;
    while (!this.closed && q.length > 0 && (this.running.get(name) ?? 0) < reg.concurrency) {
      const job = q.shift() as PendingJob;
      this.running.set(name, (this.running.get(name) ?? 0) + 1);
      this.started.add(job);
      const run = this.run(job, reg.handler).finally(() => {
        this.started.delete(job);
        this.inFlight.delete(run);
        this.running.set(name, (this.running.get(name) ?? 1) - 1);
        this.drain(name);
      });
      this.inFlight.add(run);
    }
  }

  private async run(job: PendingJob, handler: JobHandler<JobName>): Promise<void> {
    try {
      await handler(job.payload as JobPayloads[JobName], { attempt: job.attemptsMade + 1, jobId: job.jobId });
      this.forget(job);
    } catch (err) {
      job.attemptsMade += 1;
      if (job.attemptsMade >= RETRY.attempts || this.closed) {
        this.log.error({ err, job: job.name, jobId: job.jobId, attempts: job.attemptsMade }, "job failed");
        this.forget(job);
        return;
      }
      this.log.warn({ err: (err as Error).message, job: job.name, jobId: job.jobId, attempt: job.attemptsMade }, "job failed, will retry");
      this.later(job, backoffDelay(job.attemptsMade));
    }
  }

  private forget(job: PendingJob): void {
    if (job.jobId) this.knownIds.delete(`${job.name}:${job.jobId}`);
  }
}
