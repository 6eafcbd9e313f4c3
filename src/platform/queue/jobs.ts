/**
 * The only list of job names and their payloads. Every job is backed by a durable row
 * (inbox, outbox), so a job lost with a crashed process or a Redis without persistence is
 * found again by a sweeper: the queue is a fast path, not the system of record.
 */
export interface JobPayloads {
  /**
   * Apply one verified webhook delivery (an inbox row). `lane`: the call it is about, when the
   * intake knows it; a worker never applies two deliveries of one lane in different
   * transactions at once (see InboxBatcher). `ringing`: a call is ringing now and agents wait
   * for its screen-pop, so it is applied at once in a transaction of its own.
   */
  "inbox.apply": { inboxId: string; lane?: string; ringing?: boolean };
  /**
   * Deliveries that were committed together, in one job (decision 0014): the intake's one
   * enqueue of a burst, not one per delivery. Each is applied as an `inbox.apply` would be; one
   * that fails goes back to the queue alone, as an `inbox.apply` job with its own retries.
   */
  "inbox.apply-batch": { deliveries: Array<JobPayloads["inbox.apply"]> };
  /** Push pending outbox messages (screen-pops, updates, outbound webhooks). */
  "outbox.dispatch": { outboxId?: string };
  /** Periodic housekeeping: re-enqueue stale inbox/outbox rows, finalise stuck calls. */
  "maintenance.sweep": Record<string, never>;
  /** Periodic: deletes what is done with and past its retention (decision 0015). */
  "maintenance.purge": Record<string, never>;
  /** Periodic: agents presence counts as connected who have no connection left anywhere go offline. */
  "maintenance.presence": Record<string, never>;
}

export type JobName = keyof JobPayloads;

/** What the intake tells the worker about a delivery besides its row. */
export type ApplyHints = Omit<JobPayloads["inbox.apply"], "inboxId">;

export const JOB_NAMES = ["inbox.apply", "inbox.apply-batch", "outbox.dispatch", "maintenance.sweep", "maintenance.purge", "maintenance.presence"] as const satisfies readonly JobName[];

export interface JobContext {
  attempt: number;
  jobId: string | undefined;
}

export type JobHandler<N extends JobName> = (payload: JobPayloads[N], ctx: JobContext) => Promise<void>;

export interface EnqueueOptions {
  /**
   * Deduplicates while the job is queued or running (jobId = the backing row's id). Bull also
   * keeps a finished job's id for a while (an hour, the last 1,000): see `again`.
   */
  jobId?: string;
  delayMs?: number;
  /**
   * A job with this id that already finished runs again, rather than the id being taken (Bull
   * keeps finished jobs for a while): the sweeper's case, a row whose applied work was undone
   * by a crash of PostgreSQL (decision 0013).
   */
  again?: boolean;
}

export interface JobQueue {
  readonly kind: "bull" | "in-process";
  enqueue<N extends JobName>(name: N, payload: JobPayloads[N], opts?: EnqueueOptions): Promise<void>;
  /** Several jobs of one name in one round trip (Bull: one MULTI). */
  enqueueMany<N extends JobName>(name: N, jobs: Array<{ payload: JobPayloads[N]; opts?: EnqueueOptions }>): Promise<void>;
  /** Registers the processor of a job name in this process. */
  process<N extends JobName>(name: N, handler: JobHandler<N>, concurrency?: number): void;
  /** Jobs waiting, delayed or running. */
  depth(): Promise<number>;
  /**
   * When the oldest job among these that is waiting or running (not delayed) was enqueued, in
   * epoch ms; undefined when there is none. The sweeper leaves younger rows to those jobs.
   */
  oldestQueued(names: readonly JobName[]): Promise<number | undefined>;
  ping(): Promise<boolean>;
  /** Stops taking jobs, lets running ones finish, releases connections. */
  close(): Promise<void>;
}

/** Same retry semantics in both modes. */
export const RETRY = { attempts: 8, backoffDelayMs: 500 } as const;

export function backoffDelay(attemptsMade: number): number {
  // Bull's exponential backoff: (2^attemptsMade - 1) * delay.
  return (2 ** attemptsMade - 1) * RETRY.backoffDelayMs;
}
