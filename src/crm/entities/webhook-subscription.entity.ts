import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";

// Outgoing webhooks: our own events delivered to customer URLs (inbound provider webhooks are `inbox`).
@Entity({ name: "webhook_subscriptions" })
export class WebhookSubscription {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "url", type: "text" })
  url: string;

  @Column({ name: "secret", type: "text" })
  secret: string;

  @Column({ name: "events", type: "text", array: true })
  events: string[];

  @Column({ name: "is_active", type: "boolean", default: true })
  isActive: boolean;

  @Column({ name: "description", type: "text", nullable: true })
  description: string | null;

  /** Failed delivery attempts in a row; at the limit the subscription is switched off. */
  @Column({ name: "consecutive_failures", type: "integer", default: 0 })
  consecutiveFailures: number;

  @Column({ name: "disabled_reason", type: "text", nullable: true })
  disabledReason: string | null;

  @Column({ name: "created_by", type: "uuid", nullable: true })
  createdBy: string | null;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @UpdateDateColumn({ name: "updated_at", type: "timestamptz" })
  updatedAt: Date;
}
