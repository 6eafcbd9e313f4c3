import type { EntityManager } from "typeorm";

/** The events other systems may subscribe to (POST /api/webhooks/subscriptions). */
export const OUTBOUND_EVENTS = ["contact.created", "call.missed", "call.completed", "task.created", "deal.stage_changed", "recording.ready"] as const;
export type OutboundEvent = (typeof OUTBOUND_EVENTS)[number];

/** How long a process trusts its list of subscribed events (another process's new subscription shows after this). */
const SUBSCRIBED_TTL_MS = 5000;

/**
 * Queues an event for every active subscription to it, in the caller's transaction: the event
 * leaves only if the change that caused it commits, and `eventId` (unique per subscription)
 * makes a repeated emission a no-op. Delivery happens later, from the queue. Events nobody
 * subscribes to cost nothing on the ingest's hot path (a cached list of subscribed events).
 */
export class OutboundEvents {
  private subscribed: { events: Set<string>; at: number } | undefined;

  /** After a subscription changes in this process: the next emission reads them again. */
  invalidate(): void {
    this.subscribed = undefined;
  }

  async emit(em: EntityManager, type: OutboundEvent, eventId: string, data: Record<string, unknown>): Promise<void> {
    if (!this.subscribed || Date.now() - this.subscribed.at > SUBSCRIBED_TTL_MS) {
      const rows: Array<{ event: string }> = await em.query(`SELECT DISTINCT unnest(events) AS event FROM webhook_subscriptions WHERE is_active`);
      this.subscribed = { events: new Set(rows.map((r) => r.event)), at: Date.now() };
    }
    if (!this.subscribed.events.has(type)) return;
    await em.query(
      `INSERT INTO webhook_deliveries (subscription_id, event_type, event_id, payload)
       SELECT id, $1, $2, $3 FROM webhook_subscriptions WHERE is_active AND $1 = ANY (events)
       ON CONFLICT (subscription_id, event_id) DO NOTHING`,
      [type, eventId, JSON.stringify({ type, timestamp: new Date().toISOString(), data })],
    );
  }
}
