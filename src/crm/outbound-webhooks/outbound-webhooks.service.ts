import { randomBytes } from "node:crypto";
import type { DataSource } from "typeorm";
import { z } from "zod";
import { AppError } from "../../platform/errors";
import { cursorAt, KeysetQuery, pageFields, toPage } from "../../platform/db/keyset";
import { purgeStatement, type PurgeStep } from "../../platform/db/purge";
import { returningRows } from "../../platform/db/sql";
import { signStandardWebhook } from "../../platform/standard-webhooks";
import type { Actor, AuditService } from "../audit/audit.service";
import { OUTBOUND_EVENTS, type OutboundEvents } from "./outbound-events";

const url = z.url({ protocol: /^https?$/ }).max(2000);
const events = z.array(z.enum(OUTBOUND_EVENTS)).min(1).max(OUTBOUND_EVENTS.length);

export const newSubscriptionSchema = z.object({ url, events, description: z.string().trim().min(1).max(200).optional() }).strict();
export const subscriptionPatchSchema = z
  .object({ url: url.optional(), events: events.optional(), isActive: z.boolean().optional(), description: z.string().trim().min(1).max(200).nullable().optional() })
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: "nothing to change" });
export const listDeliveriesQuery = z
  .object({ subscriptionId: z.uuid().optional(), status: z.enum(["pending", "delivered", "failed"]).optional(), ...pageFields() })
  .strict();

/** Attempts per delivery before it is parked as failed (replayable). */
export const MAX_ATTEMPTS = 8;
/** Failed attempts in a row after which a subscription is switched off. */
export const DISABLE_AFTER_FAILURES = 20;
const TIMEOUT_MS = 10_000;
/** While one process sends a delivery, others leave it alone for this long. */
const CLAIM_SECONDS = 60;
const backoffSeconds = (attempt: number) => Math.min(30 * 2 ** (attempt - 1), 6 * 3600);

const uuid = z.uuid();
const view = (r: Record<string, unknown>) => ({
  id: r.id as string,
  url: r.url as string,
  events: r.events as string[],
  description: (r.description as string | null) ?? null,
  isActive: r.is_active as boolean,
  consecutiveFailures: r.consecutive_failures as number,
  disabledReason: (r.disabled_reason as string | null) ?? null,
});

/**
 * Outbound webhooks: subscriptions (admin), the delivery log, replays, and the sender. Each
 * delivery is signed per Standard Webhooks with the subscription's secret, sent from the queue,
 * retried with exponential backoff, and parked as failed after MAX_ATTEMPTS; a subscription
 * whose deliveries keep failing is switched off and says why.
 */
export class OutboundWebhooksService {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly events: OutboundEvents,
  ) {}

  async create(actor: Actor, input: unknown, requestId?: string) {
    const data = newSubscriptionSchema.parse(input);
    const secret = `whsec_${randomBytes(24).toString("base64")}`;
    const created = await this.ds.transaction(async (em) => {
      const [row] = await em.query(
        `INSERT INTO webhook_subscriptions (url, secret, events, description, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
        [data.url, secret, data.events, data.description ?? null, actor.type === "user" ? actor.id : null],
      );
      await this.audit.record(em, { actor, action: "create", entity: "webhook_subscription", entityId: row.id, after: view(row), requestId });
      // The secret is shown once, now; the API never returns it again.
      return { ...view(row), secret };
    });
    this.events.invalidate();
    return created;
  }

  async list() {
    return { items: (await this.ds.query(`SELECT * FROM webhook_subscriptions ORDER BY created_at`)).map(view) };
  }

  async update(actor: Actor, id: string, input: unknown, requestId?: string) {
    if (!uuid.safeParse(id).success) throw new AppError("not_found", "No such subscription");
    const patch = subscriptionPatchSchema.parse(input);
    const updated = await this.ds.transaction(async (em) => {
      const [before] = await em.query(`SELECT * FROM webhook_subscriptions WHERE id = $1 FOR UPDATE`, [id]);
      if (!before) throw new AppError("not_found", "No such subscription");
      const [after] = await returningRows<Record<string, unknown>>(
        em,
        `UPDATE webhook_subscriptions SET url = COALESCE($2, url), events = COALESCE($3, events),
           is_active = COALESCE($4, is_active), description = CASE WHEN $5 THEN $6 ELSE description END,
           consecutive_failures = CASE WHEN $4 THEN 0 ELSE consecutive_failures END,
           disabled_reason = CASE WHEN $4 THEN NULL ELSE disabled_reason END, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [id, patch.url ?? null, patch.events ?? null, patch.isActive ?? null, patch.description !== undefined, patch.description ?? null],
      );
      await this.audit.record(em, { actor, action: "update", entity: "webhook_subscription", entityId: id, before: view(before), after: view(after!), requestId });
      return view(after!);
    });
    this.events.invalidate();
    return updated;
  }

  async remove(actor: Actor, id: string, requestId?: string) {
    if (!uuid.safeParse(id).success) throw new AppError("not_found", "No such subscription");
    await this.ds.transaction(async (em) => {
      const [before] = await returningRows<Record<string, unknown>>(em, `DELETE FROM webhook_subscriptions WHERE id = $1 RETURNING *`, [id]);
      if (!before) throw new AppError("not_found", "No such subscription");
      await this.audit.record(em, { actor, action: "delete", entity: "webhook_subscription", entityId: id, before: view(before), requestId });
    });
    this.events.invalidate();
  }

  async deliveries(input: unknown) {
    const f = listDeliveriesQuery.parse(input);
    const q = new KeysetQuery();
    if (f.subscriptionId) q.where("d.subscription_id = ?", f.subscriptionId);
    if (f.status) q.where("d.status = ?", f.status);
    q.after(f.cursor, "d.created_at", "d.id", "<");
    const rows = await this.ds.query(
      `SELECT d.*, ${cursorAt("d.created_at")} AS cursor_at FROM webhook_deliveries d
       WHERE ${q.whereSql} ORDER BY d.created_at DESC, d.id DESC LIMIT ${q.limitSql(f.limit)}`,
      q.params,
    );
    return toPage(rows, f.limit, (d: Record<string, unknown>) => ({
      id: d.id,
      subscriptionId: d.subscription_id,
      eventType: d.event_type,
      eventId: d.event_id,
      status: d.status,
      attempts: d.attempts,
      lastStatusCode: d.last_status_code,
      lastError: d.last_error,
      nextAttemptAt: d.status === "pending" ? new Date(d.next_attempt_at as string).toISOString() : null,
      deliveredAt: d.delivered_at ? new Date(d.delivered_at as string).toISOString() : null,
      createdAt: new Date(d.created_at as string).toISOString(),
    }));
  }

  /** Sends a delivery again (the same message id, so receivers can tell it is a repeat). */
  async replay(actor: Actor, id: string, requestId?: string) {
    if (!uuid.safeParse(id).success) throw new AppError("not_found", "No such delivery");
    return this.ds.transaction(async (em) => {
      const [row] = await returningRows<Record<string, unknown>>(
        em,
        `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL WHERE id = $1 RETURNING id, subscription_id`,
        [id],
      );
      if (!row) throw new AppError("not_found", "No such delivery");
      await this.audit.record(em, { actor, action: "update", entity: "webhook_delivery", entityId: id, after: { status: "pending", replayed: true }, requestId });
      return { id, status: "pending" };
    });
  }

  /**
   * The delivery log past its retention: sent or given up, created before `before`, oldest
   * first (by creation: a delivery replayed that late goes once sent). One pending again (a
   * replay) is kept.
   */
  purgeLog(before: Date, limit: number): Promise<PurgeStep> {
    return purgeStatement(
      this.ds,
      `gone AS (
         DELETE FROM webhook_deliveries WHERE status <> 'pending' AND id = ANY(ARRAY(
           SELECT id FROM webhook_deliveries WHERE created_at < $1 AND status <> 'pending' ORDER BY created_at LIMIT $2))
         RETURNING 1)`,
    )(before, limit);
  }

  /**
   * Sends what is due, a batch at a time. Rows are claimed (pushed out by CLAIM_SECONDS) in a
   * short transaction, so no lock is held during HTTP and two workers never send one twice.
   */
  async dispatchDue(limit = 50): Promise<number> {
    const due = await returningRows<Record<string, unknown>>(
      this.ds.manager,
      `UPDATE webhook_deliveries d SET next_attempt_at = now() + make_interval(secs => ${CLAIM_SECONDS}), attempts = d.attempts + 1
       FROM webhook_subscriptions s
       WHERE s.id = d.subscription_id AND d.id IN (
         SELECT x.id FROM webhook_deliveries x JOIN webhook_subscriptions y ON y.id = x.subscription_id
         WHERE x.status = 'pending' AND x.next_attempt_at <= now() AND y.is_active
         ORDER BY x.next_attempt_at LIMIT $1 FOR UPDATE OF x SKIP LOCKED)
       RETURNING d.id, d.payload, d.attempts, s.id AS subscription_id, s.url, s.secret`,
      [limit],
    );
    await Promise.all(due.map((d) => this.send(d)));
    return due.length;
  }

  private async send(d: Record<string, unknown>): Promise<void> {
    const body = JSON.stringify(d.payload);
    const id = d.id as string;
    const now = new Date();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(d.url as string, {
        method: "POST",
        redirect: "manual",
        signal: AbortSignal.timeout(TIMEOUT_MS),
        headers: {
          "content-type": "application/json",
          "user-agent": "callcenter-crm-webhooks",
          "webhook-id": id,
          "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
          "webhook-signature": signStandardWebhook(d.secret as string, id, now, body),
        },
        body,
      });
      status = res.status;
      await res.body?.cancel();
      if (status < 200 || status >= 300) error = `answered ${status}`;
    } catch (err) {
      error = ((err as Error).message ?? String(err)).slice(0, 500);
    }
    const attempts = d.attempts as number;
    if (!error) {
      await this.ds.query(`UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), last_status_code = $2, last_error = NULL WHERE id = $1`, [id, status]);
      await this.ds.query(`UPDATE webhook_subscriptions SET consecutive_failures = 0 WHERE id = $1 AND consecutive_failures > 0`, [d.subscription_id]);
      return;
    }
    await this.ds.query(
      `UPDATE webhook_deliveries SET last_status_code = $2, last_error = $3,
         status = CASE WHEN $4 >= ${MAX_ATTEMPTS} THEN 'failed' ELSE 'pending' END,
         next_attempt_at = now() + make_interval(secs => $5)
       WHERE id = $1`,
      [id, status, error, attempts, backoffSeconds(attempts)],
    );
    await this.ds.query(
      `UPDATE webhook_subscriptions SET consecutive_failures = consecutive_failures + 1,
         is_active = CASE WHEN consecutive_failures + 1 >= ${DISABLE_AFTER_FAILURES} THEN false ELSE is_active END,
         disabled_reason = CASE WHEN consecutive_failures + 1 >= ${DISABLE_AFTER_FAILURES}
           THEN 'switched off after ${DISABLE_AFTER_FAILURES} failed attempts in a row; last: ' || $2 ELSE disabled_reason END
       WHERE id = $1`,
      [d.subscription_id, error],
    );
  }
}
