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

  @Column({ name: "created_by", type: "uuid", nullable: true })
  createdBy: string | null;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @UpdateDateColumn({ name: "updated_at", type: "timestamptz" })
  updatedAt: Date;
}
