import type { Container } from "./container";
import type { OutboxDispatcher } from "./realtime";
import { finalizeStaleRingingCalls } from "./telephony";
import { sweepInbox } from "./webhooks";

export const SWEEP_INTERVAL_MS = 5000;

/**
 * Job handlers of a worker (or an embedded/all-in-one process): thin shells that call one
 * service each. Returns a stop function for the periodic sweep.
 */
export function startJobs(c: Container, dispatcher: OutboxDispatcher | undefined): () => void {
  const dispatchSoon = () => {
    if (dispatcher) void c.queue.enqueue("outbox.dispatch", {}).catch(() => undefined);
  };
  const count = (job: string) => (result: string) => c.metrics.jobs.inc({ job, result });
  c.queue.process(
    "inbox.apply",
    async ({ inboxId }) => {
      const result = await c.inbox.process(inboxId);
      count("inbox.apply")(result);
      // Push what this delivery produced right away (no second queue hop while the phone rings);
      // the outbox.dispatch job and the sweeper catch anything this misses.
      if (result === "done" && dispatcher) await dispatcher.drain().catch(() => dispatchSoon());
    },
    c.config.workerConcurrency,
  );
  c.queue.process(
    "maintenance.sweep",
    async () => {
      await sweepInbox(c.ds, c.queue, c.log);
      await finalizeStaleRingingCalls(c.ds, c.telephony.ingest, c.config.routing.staleRingingMinutes);
      dispatchSoon();
      count("maintenance.sweep")("done");
    },
    1,
  );

  if (dispatcher) {
    c.queue.process(
      "outbox.dispatch",
      async () => {
        count("outbox.dispatch")((await dispatcher.drain()) > 0 ? "done" : "empty");
      },
      2,
    );
  }

  // Every worker ticks; the job id (one per interval) lets only one sweep run per interval.
  const tick = () =>
    c.queue
      .enqueue("maintenance.sweep", {}, { jobId: `sweep:${Math.floor(Date.now() / SWEEP_INTERVAL_MS)}` })
      .catch((err: Error) => c.log.debug({ err: err.message }, "sweep not scheduled"));
  const timer = setInterval(tick, SWEEP_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
