import { backoffDelay, type JobPayloads, type JobQueue } from "../platform/queue/jobs";

type Delivery = JobPayloads["inbox.apply"];

/**
 * An `inbox.apply-batch` job (decision 0014): its deliveries are applied at once, each as its
 * own `inbox.apply` job would be (the InboxBatcher shares transactions among them). One that
 * fails goes back to the queue alone, as an `inbox.apply` job retried with the queue's backoff,
 * so a bad delivery never holds the others. If even that hand-over fails (Redis away), the
 * batch job fails and runs again later; its applied deliveries are skipped then.
 * Returns how many deliveries were handed over.
 */
export async function applyBatchJob(deliveries: Delivery[], apply: (d: Delivery) => Promise<void>, queue: JobQueue): Promise<number> {
  const results = await Promise.allSettled(deliveries.map((d) => apply(d)));
  const failed = deliveries.filter((_, i) => results[i]!.status === "rejected");
  if (failed.length > 0) {
    await queue.enqueueMany(
      "inbox.apply",
      failed.map((d) => ({ payload: d, opts: { jobId: `${d.inboxId}:from-batch`, delayMs: backoffDelay(1) } })),
    );
  }
  return failed.length;
}
