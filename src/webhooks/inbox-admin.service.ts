import type { DataSource } from "typeorm";
import { z } from "zod";
import type { Actor, AuditService } from "../crm";
import { AppError } from "../platform/errors";
import { cursorAt, KeysetQuery, pageFields, toPage } from "../platform/db/keyset";
import { returningRows } from "../platform/db/sql";
import type { JobQueue } from "../platform/queue/jobs";
import type { Logger } from "../platform/logger";

/** Only deliveries not applied yet are listed: the settled ones are history, purged in time. */
export const listInboxQuery = z
  .object({ status: z.enum(["failed", "deferred", "pending"]).default("failed"), source: z.string().min(1).max(100).optional(), ...pageFields() })
  .strict();

const uuid = z.uuid();

const view = (r: Record<string, unknown>) => ({
  id: r.id as string,
  source: r.source as string,
  deliveryKey: r.delivery_key as string,
  status: r.status as string,
  attempts: r.attempts as number,
  failures: r.failures as number,
  lastError: (r.last_error as string | null) ?? null,
  receivedAt: new Date(r.received_at as string).toISOString(),
  availableAt: new Date(r.available_at as string).toISOString(),
});

/**
 * What an administrator sees of the provider deliveries that are not applied, and the way back
 * for one that was parked as `failed` (after ten failures, or a recording whose call never came
 * in time): once its cause is fixed, a retry counts its tries afresh.
 */
export class InboxAdminService {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly queue: JobQueue,
    private readonly log: Logger,
  ) {}

  async list(input: unknown) {
    const f = listInboxQuery.parse(input);
    const q = new KeysetQuery().where("status = ?", f.status);
    if (f.source) q.where("source = ?", f.source);
    q.after(f.cursor, "received_at", "id", "<");
    const rows = await this.ds.query(
      `SELECT id, source, delivery_key, status, attempts, failures, last_error, received_at, available_at, ${cursorAt("received_at")} AS cursor_at
       FROM inbox WHERE ${q.whereSql} ORDER BY received_at DESC, id DESC LIMIT ${q.limitSql(f.limit)}`,
      q.params,
    );
    return toPage(rows, f.limit, view);
  }

  /** One delivery, with the provider's payload as it was received. */
  async get(id: string) {
    if (!uuid.safeParse(id).success) throw new AppError("not_found", "No such delivery");
    const [row] = await this.ds.query(`SELECT * FROM inbox WHERE id = $1`, [id]);
    if (!row) throw new AppError("not_found", "No such delivery");
    return { ...view(row), processedAt: row.processed_at ? new Date(row.processed_at).toISOString() : null, payload: row.payload };
  }

  /**
   * A failed or deferred delivery is pending again, with no attempts or failures counted, and is enqueued
   * (if the queue cannot take it now, the sweeper does within seconds). One that is applied,
   * ignored or already pending is left alone (409).
   */
  async retry(actor: Actor, id: string, requestId?: string) {
    if (!uuid.safeParse(id).success) throw new AppError("not_found", "No such delivery");
    const retried = await this.ds.transaction(async (em) => {
      const [before] = await em.query(`SELECT status, attempts, failures, last_error FROM inbox WHERE id = $1 FOR UPDATE`, [id]);
      if (!before) throw new AppError("not_found", "No such delivery");
      if (before.status !== "failed" && before.status !== "deferred") {
        throw new AppError("conflict", `The delivery is ${before.status}: only a failed or deferred one can be retried`);
      }
      const [row] = await returningRows<Record<string, unknown>>(
        em,
        `UPDATE inbox SET status = 'pending', attempts = 0, failures = 0, available_at = now(), last_error = NULL, processed_at = NULL WHERE id = $1
         RETURNING id, source, delivery_key, status, attempts, failures, last_error, received_at, available_at`,
        [id],
      );
      await this.audit.record(em, {
        actor,
        action: "update",
        entity: "inbox_delivery",
        entityId: id,
        before: { status: before.status, attempts: before.attempts, failures: before.failures, lastError: before.last_error },
        after: { status: "pending", attempts: 0, failures: 0, retried: true },
        requestId,
      });
      return view(row!);
    });
    // Its first attempt's job id, which may have run already: `again` runs it anyway.
    await this.queue.enqueue("inbox.apply", { inboxId: id }, { jobId: `${id}:0`, again: true }).catch((err: Error) => {
      this.log.warn({ inboxId: id, err: err.message }, "retried delivery not enqueued; the sweeper will");
    });
    return retried;
  }
}
