import type { DataSource } from "typeorm";
import type { Logger } from "../platform/logger";
import type { JobQueue } from "../platform/queue/jobs";

/** A pending row younger than this is still on its normal path (enqueued at intake). */
const PENDING_GRACE_SECONDS = 10;
const BATCH = 500;
const APPLY_JOBS = ["inbox.apply", "inbox.apply-batch"] as const;

/**
 * Finds inbox deliveries that are not applied and enqueues them again: a lost enqueue (Redis
 * down at intake), a job lost with a crashed process, a deferred delivery whose wait is over, a
 * failed one whose backoff is over (InboxProcessor).
 * The job id includes the attempt count, so one attempt is enqueued once.
 *
 * A pending row is taken only if it is also older (by the grace again) than the oldest job
 * waiting or running to apply deliveries: until then, its own job may be one of them.
 * Deliveries committed together share a batch job (decision 0014), which no job id of a row
 * can find, so a backlog would otherwise be enqueued twice. With no job queued, or if the queue
 * cannot say (a NULL, which LEAST ignores), the grace alone decides, as it did: at worst a
 * delivery is enqueued twice and applied once.
 */
export async function sweepInbox(ds: DataSource, queue: JobQueue, log: Logger): Promise<number> {
  const queued = await queue.oldestQueued(APPLY_JOBS).catch(() => undefined);
  const rows: Array<{ id: string; attempts: number }> = await ds.query(
    `SELECT id, attempts FROM inbox
     WHERE (status = 'pending' AND available_at <= now() AND received_at < LEAST(now(), $3::timestamptz) - make_interval(secs => $1))
        OR (status = 'deferred' AND available_at <= now())
     ORDER BY received_at LIMIT $2`,
    [PENDING_GRACE_SECONDS, BATCH, queued === undefined ? null : new Date(queued).toISOString()],
  );
  let enqueued = 0;
  for (const r of rows) {
    try {
      // again: the job of this attempt may have finished while its work was undone (decision 0013).
      await queue.enqueue("inbox.apply", { inboxId: r.id }, { jobId: `${r.id}:${r.attempts}`, again: true });
      enqueued++;
    } catch (err) {
      log.warn({ err: (err as Error).message }, "sweeper could not enqueue; will retry next sweep");
      break;
    }
  }
  if (enqueued > 0) log.info({ enqueued }, "sweeper re-enqueued inbox deliveries");
  return enqueued;
}
