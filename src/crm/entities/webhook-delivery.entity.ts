import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";

export const WEBHOOK_DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

// One row per (subscription, event): unique on (subscription_id, event_id), so re-enqueueing an
// event never sends it twice.
@Entity({ name: "webhook_deliveries" })
export class WebhookDelivery {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "subscription_id", type: "uuid" })
  subscriptionId: string;

  @Column({ name: "event_type", type: "text" })
  eventType: string;

  @Column({ name: "event_id", type: "text" })
  eventId: string;

  @Column({ name: "payload", type: "jsonb" })
  payload: Record<string, unknown>;

  @Column({ name: "status", type: "text", default: "pending" })
  status: WebhookDeliveryStatus;

  @Column({ name: "attempts", type: "integer", default: 0 })
  attempts: number;

  @Column({ name: "last_status_code", type: "integer", nullable: true })
  lastStatusCode: number | null;

  @Column({ name: "last_error", type: "text", nullable: true })
  lastError: string | null;

  @Column({ name: "next_attempt_at", type: "timestamptz", default: () => "now()" })
  nextAttemptAt: Date;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @Column({ name: "delivered_at", type: "timestamptz", nullable: true })
  deliveredAt: Date | null;
}
