import type { Container } from "./container";
import type { OutboxDispatcher, PresenceReconciler } from "./realtime";
import { finalizeStaleRingingCalls } from "./telephony";
import type { ApplyHints } from "./platform/queue/jobs";
import { purgeExpired, PURGE_INTERVAL_MS } from "./retention";
import { applyBatchJob, InboxBatcher, MAX_BATCH, sweepInbox } from "./webhooks";

export const SWEEP_INTERVAL_MS = 5000;
/** A pop not acknowledged this long after it was sent (twice the ack timeout) is sent again. */
const UNACKNOWLEDGED_POP_MS = 10_000;
/** A worker runs one batch job at once for every this many single ones (WORKER_CONCURRENCY). */
const SINGLE_JOBS_PER_BATCH_JOB = 8;

/**
 * Coalesces requests to push the outbox: while one drain runs (or is about to), further
 * requests make it loop once more instead of starting another transaction. Pops go out as soon
 * as their delivery commits, and a burst of deliveries costs a few drains, not one each.
 */
function outboxPusher(c: Container, dispatcher: OutboxDispatcher | undefined) {
  let running: Promise<void> | undefined;
  let again = false;
  let ringing = false;
  /** `forRinging`: a ringing call was applied (its pop waits: see OutboxDispatcher.drain). */
  const request = (forRinging = false) => {
    if (!dispatcher) return;
    ringing ||= forRinging;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      // The jobs of one shared transaction finish together: their requests, made in this same
      // turn of the event loop, are all served by this drain, not each by another transaction.
      await new Promise((resolve) => setImmediate(resolve));
      do {
        again = false;
        const forRinging = ringing;
        ringing = false;
        const n = await dispatcher.drain({ ringing: forRinging }).catch((err: Error) => {
          c.log.warn({ err: err.message }, "outbox dispatch failed; the sweeper retries");
          return { handled: 0, replayed: 0 };
        });
        c.metrics.jobs.inc({ job: "outbox.dispatch", result: n.handled > 0 ? "done" : "empty" });
        if (n.replayed > 0) {
          c.log.warn({ batches: n.replayed }, "outbox batch failed; dispatched row by row");
          c.metrics.jobs.inc({ job: "outbox.dispatch", result: "replayed" }, n.replayed);
        }
      } while (again);
    })().finally(() => (running = undefined));
  };
  return { request, idle: () => running ?? Promise.resolve() };
}

/**
 * Job handlers of a worker (or an embedded/all-in-one process): thin shells that call one
 * service each. Returns a stop function that ends the periodic sweep and waits for a push.
 */
export function startJobs(
  c: Container,
  realtime: { dispatcher?: OutboxDispatcher; presence?: PresenceReconciler; listenEnded?: (callId: string) => void } = {},
): () => Promise<void> {
  const { dispatcher, listenEnded } = realtime;
  const count = (job: string) => (result: string) => c.metrics.jobs.inc({ job, result });
  const pusher = outboxPusher(c, dispatcher);
  // Of the 64 single jobs run at once, by default: 2 transactions apply ringing calls and 2 the rest;
  // deliveries that arrive while they are busy gather into shared ones (decision 0011). Two keep
  // the worker preparing one while PostgreSQL runs the other; more would only be emptier.
  const batcher = new InboxBatcher(c.inbox, Math.max(1, Math.ceil(c.config.workerConcurrency / MAX_BATCH.other)));
  const applyDelivery = async (inboxId: string, hints: ApplyHints) => {
    const result = await batcher.apply(inboxId, hints);
    count("inbox.apply")(result);
    if (result === "done") pusher.request(hints.ringing === true);
  };
  c.queue.process("inbox.apply", ({ inboxId, lane, ringing }) => applyDelivery(inboxId, { lane, ringing }), c.config.workerConcurrency);
  // Batch jobs (decision 0014), each up to one shared transaction's worth: an eighth as many at
  // once keeps what a worker holds bounded (with 64, 8 jobs of up to 32 deliveries).
  const batchJobs = Math.max(1, Math.ceil(c.config.workerConcurrency / SINGLE_JOBS_PER_BATCH_JOB));
  c.queue.process(
    "inbox.apply-batch",
    async ({ deliveries }) => {
      const handedOver = await applyBatchJob(deliveries, ({ inboxId, lane, ringing }) => applyDelivery(inboxId, { lane, ringing }), c.queue);
      count("inbox.apply-batch")(handedOver > 0 ? "partly_requeued" : "done");
    },
    batchJobs,
  );
  // Ringing calls this process receives are applied here, as many at once as it runs jobs; the
  // rest go to the queue (decision 0012).
  const appliedHere = new Set<Promise<void>>();
  const appliedHereCount = (result: "applied" | "failed" | "at_capacity") => c.metrics.ringingAppliedHere.inc({ result });
  c.intake.applyRingingHere((inboxId, hints) => {
    if (appliedHere.size >= c.config.workerConcurrency) return void appliedHereCount("at_capacity");
    const applying = applyDelivery(inboxId, hints);
    appliedHere.add(applying);
    void applying.then(
      () => appliedHereCount("applied"),
      () => appliedHereCount("failed"),
    ).finally(() => appliedHere.delete(applying));
    return applying;
  });
  c.queue.process(
    "maintenance.sweep",
    async () => {
      await sweepInbox(c.ds, c.queue, c.log);
      await finalizeStaleRingingCalls(c.ds, c.telephony.ingest, c.config.routing.staleRingingMinutes);
      for (const callId of await c.telephony.listening.endFinishedCalls()) listenEnded?.(callId);
      // Outbound webhooks go out from here: at most a sweep interval after their event.
      await c.crm.outboundWebhooks.dispatchDue().catch((err: Error) => c.log.warn({ err: err.message }, "outbound webhook dispatch failed"));
      pusher.request(); // also pushes what an earlier failed or crashed dispatch left pending
      // A pop lost on its way (emitted after its commit, by a process killed before) still
      // reaches an agent who stays connected while the call rings.
      await dispatcher?.resendUnacknowledged(UNACKNOWLEDGED_POP_MS).catch((err: Error) => c.log.warn({ err: err.message }, "resending pops failed"));
      count("maintenance.sweep")("done");
    },
    1,
  );
  c.queue.process("outbox.dispatch", async () => pusher.request(), 1);
  c.queue.process(
    "maintenance.purge",
    async () => {
      const { purged, failed } = await purgeExpired(c);
      for (const [table, n] of Object.entries(purged)) if (n > 0) c.metrics.purgedRows.inc({ table }, n);
      if (Object.values(purged).some((n) => n > 0)) c.log.info({ purged }, "purged what is past its retention");
      count("maintenance.purge")(failed.length > 0 ? "partly_failed" : "done");
    },
    1,
  );

  c.queue.process(
    "maintenance.presence",
    async () => {
      const result = await realtime.presence?.reconcileCluster();
      if (result && result.offline + result.restored > 0) c.log.info(result, "presence: agents with no connection left are offline");
      count("maintenance.presence")("done");
    },
    1,
  );

  // Every worker ticks; the job id (one per interval) lets only one sweep run per interval.
  const asked = new Map<string, number>();
  /** Once per interval from each worker; its job id makes it one run in the cluster. */
  const oncePer = (job: "maintenance.purge" | "maintenance.presence", prefix: string, intervalMs: number, now: number) => {
    const interval = Math.floor(now / intervalMs);
    if (asked.get(job) === interval) return;
    asked.set(job, interval);
    c.queue.enqueue(job, {}, { jobId: `${prefix}:${interval}` }).catch((err: Error) => c.log.debug({ err: err.message, job }, "not scheduled"));
  };
  const tick = () => {
    const now = Date.now();
    c.queue
      .enqueue("maintenance.sweep", {}, { jobId: `sweep:${Math.floor(now / SWEEP_INTERVAL_MS)}` })
      .catch((err: Error) => c.log.debug({ err: err.message }, "sweep not scheduled"));
    oncePer("maintenance.purge", "purge", PURGE_INTERVAL_MS, now);
    if (c.config.presenceCheckMs > 0) oncePer("maintenance.presence", "presence", c.config.presenceCheckMs, now);
  };
  const timer = setInterval(tick, SWEEP_INTERVAL_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    c.intake.applyRingingHere(undefined);
    await Promise.allSettled([...appliedHere]);
    await pusher.idle();
  };
}
