import Bull from "bull";
import Redis, { type RedisOptions } from "ioredis";
import type { Logger } from "../logger";
import { closeRedis } from "../redis-close";
import { JOB_NAMES, RETRY, type EnqueueOptions, type JobHandler, type JobName, type JobPayloads, type JobQueue } from "./jobs";

const ENQUEUE_TIMEOUT_MS = 2000;
/**
 * How long a close waits for Bull with Redis away. Bull's close waits for the jobs this process
 * runs, and a job cannot be marked finished without Redis: the close would wait for Redis to
 * come back. Their work is safe in the database (a delivery stays pending for the sweeper).
 */
const CLOSE_WITHOUT_REDIS_MS = 5000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Production queue: one Bull queue per job name on Redis. Commands fail fast while Redis is
 * away (maxRetriesPerRequest 1 + a timeout on add) so that a webhook is still acknowledged
 * from its committed inbox row; the sweeper enqueues it once Redis is back.
 */
export class BullQueue implements JobQueue {
  readonly kind = "bull" as const;
  private readonly queues = new Map<JobName, Bull.Queue>();
  private readonly shared: { client: Redis; subscriber: Redis };
  private readonly extra: Redis[] = [];
  /** The handlers' runs in this process, for a close with Redis away. */
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly redisUrl: string,
    private readonly log: Logger,
    private readonly prefix = "crm",
  ) {
    this.shared = {
      // Auto-pipelining sends the adds of concurrent webhooks in one round trip.
      client: this.connect("client", { maxRetriesPerRequest: 1, enableAutoPipelining: true }),
      subscriber: this.connect("subscriber", { maxRetriesPerRequest: null, enableReadyCheck: false }),
    };
  }

  private connect(role: string, opts: RedisOptions): Redis {
    const r = new Redis(this.redisUrl, {
      ...opts,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    r.on("error", (err) => this.log.debug({ role, err: err.message }, "redis connection error"));
    return r;
  }

  private queue(name: JobName): Bull.Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Bull(name, {
        prefix: this.prefix,
        createClient: (type) => {
          if (type === "client") return this.shared.client;
          if (type === "subscriber") return this.shared.subscriber;
          const b = this.connect("bclient", { maxRetriesPerRequest: null, enableReadyCheck: false });
          this.extra.push(b);
          return b;
        },
        defaultJobOptions: {
          attempts: RETRY.attempts,
          backoff: { type: "exponential", delay: RETRY.backoffDelayMs },
          removeOnComplete: { age: 3600, count: 1000 },
          removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
        },
      });
      // Bull labels its worker connection fire-and-forget (setHandler → setWorkerName): a queue
      // closed before that reply arrives rejects with nobody listening. The label only names the
      // connection in CLIENT LIST, so a failure is dropped here.
      const named = q as unknown as { setWorkerName(): Promise<unknown> };
      const setWorkerName = named.setWorkerName.bind(q);
      named.setWorkerName = () => setWorkerName().catch(() => undefined);
      q.on("error", (err) => this.log.warn({ queue: name, err: err.message }, "queue error"));
      q.on("stalled", (job) => this.log.warn({ queue: name, jobId: job.id }, "job stalled: its worker died or blocked; it will run again"));
      q.on("failed", (job, err) => {
        if (job.attemptsMade >= (job.opts.attempts ?? 1)) this.log.error({ queue: name, jobId: job.id, err: err.message }, "job failed");
      });
      this.queues.set(name, q);
    }
    return q;
  }

  async enqueue<N extends JobName>(name: N, payload: JobPayloads[N], opts: EnqueueOptions = {}): Promise<void> {
    const q = this.queue(name);
    const add = async () => {
      if (opts.again && opts.jobId !== undefined) await removeIfFinished(q, opts.jobId);
      await q.add(payload, { jobId: opts.jobId, delay: opts.delayMs });
    };
    await withTimeout(add(), ENQUEUE_TIMEOUT_MS, `enqueue ${name}`);
  }

  /**
   * Plain adds, not Bull's addBulk: addBulk wraps them in MULTI … EXEC, two more commands per
   * call for an atomicity nobody needs (each job stands alone; one that is lost is the sweeper's).
   * Auto-pipelining still sends the adds of one call, and of concurrent ones, in one write.
   */
  async enqueueMany<N extends JobName>(name: N, jobs: Array<{ payload: JobPayloads[N]; opts?: EnqueueOptions }>): Promise<void> {
    if (jobs.length === 0) return;
    const q = this.queue(name);
    await withTimeout(
      Promise.all(jobs.map((j) => q.add(j.payload, { jobId: j.opts?.jobId, delay: j.opts?.delayMs }))),
      ENQUEUE_TIMEOUT_MS,
      `enqueue ${jobs.length} × ${name}`,
    );
  }

  process<N extends JobName>(name: N, handler: JobHandler<N>, concurrency = 4): void {
    void this.queue(name).process(concurrency, (job) => {
      const run = handler(job.data as JobPayloads[N], { attempt: job.attemptsMade + 1, jobId: job.id === undefined ? undefined : String(job.id) });
      this.running.add(run);
      const done = () => this.running.delete(run);
      run.then(done, done);
      return run;
    });
  }

  async depth(): Promise<number> {
    let total = 0;
    for (const name of JOB_NAMES) {
      const c = await withTimeout(this.queue(name).getJobCounts(), ENQUEUE_TIMEOUT_MS, "job counts");
      total += c.waiting + c.active + c.delayed;
    }
    return total;
  }

  async oldestQueued(names: readonly JobName[]): Promise<number | undefined> {
    // The wait list's tail is the next job to run, as good as its oldest (Bull adds new jobs at
    // the head; a retried one goes back to the head too, and only makes the answer younger).
    // Running jobs are few (the workers' concurrency), so all of them are read.
    const read = (name: JobName) => Promise.all([this.queue(name).getWaiting(0, 0), this.queue(name).getActive(0, -1)]);
    const jobs = await withTimeout(Promise.all(names.map(read)), ENQUEUE_TIMEOUT_MS, "oldest queued job");
    let oldest: number | undefined;
    for (const job of jobs.flat(2)) if (job && Number.isFinite(job.timestamp) && (oldest === undefined || job.timestamp < oldest)) oldest = job.timestamp;
    return oldest;
  }

  async ping(): Promise<boolean> {
    try {
      return (await withTimeout(this.shared.client.ping(), 1000, "redis ping")) === "PONG";
    } catch {
      return false;
    }
  }

  private closing: Promise<void> | undefined;

  /**
   * Idempotent. Bull's close waits for the jobs this process is running to finish; with Redis
   * away, for a moment only (CLOSE_WITHOUT_REDIS_MS), then the connections are cut.
   *
   * Already away at the start, Bull is not asked to wait: its wait first reconnects its blocking
   * client and leaves that attempt's failure to nobody while a job runs, an unhandled rejection
   * per queue. The handlers themselves (what holds database work) are waited for here instead.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const redisAway = this.shared.client.status !== "ready";
      if (redisAway) await withTimeout(Promise.allSettled(this.running), CLOSE_WITHOUT_REDIS_MS, "running jobs").catch(() => undefined);
      const closed = Promise.allSettled([...this.queues.values()].map((q) => q.close(redisAway)));
      let timer: NodeJS.Timeout | undefined;
      const redisGone = new Promise<void>((resolve) => {
        const check = () => {
          if (this.shared.client.status !== "ready") timer = setTimeout(resolve, CLOSE_WITHOUT_REDIS_MS);
          else timer = setTimeout(check, 250);
        };
        check();
      });
      await Promise.race([closed, redisGone]);
      clearTimeout(timer);
      await Promise.allSettled([...this.extra, this.shared.client, this.shared.subscriber].map((r) => closeRedis(r)));
    })();
    return this.closing;
  }
}

/**
 * A finished job (kept by removeOnComplete / removeOnFail) gives its id up; a waiting or running
 * one keeps it. `finishedOn` is in the job's hash once it completed or failed for good (a retry
 * clears it): one read, not a query per state.
 */
async function removeIfFinished(q: Bull.Queue, jobId: string): Promise<void> {
  const job = await q.getJob(jobId);
  if (job?.finishedOn) await job.remove();
}
