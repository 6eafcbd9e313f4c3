import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";

export const INBOX_STATUSES = ["pending", "done", "deferred", "failed", "ignored"] as const;
export type InboxStatus = (typeof INBOX_STATUSES)[number];

// Every verified webhook delivery, stored before the provider gets its 2xx; processed later by a
// worker. delivery_key is unique, so a provider retry of the same delivery is a no-op.
@Entity({ name: "inbox" })
export class InboxItem {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "source", type: "text" })
  source: string;

  @Column({ name: "delivery_key", type: "text" })
  deliveryKey: string;

  @Column({ name: "payload", type: "jsonb" })
  payload: Record<string, unknown>;

  @Column({ name: "status", type: "text", default: "pending" })
  status: InboxStatus;

  /** Every try: applied, ignored, deferred or failed. Names the try's queue job (`<id>:<attempts>`). */
  @Column({ name: "attempts", type: "integer", default: 0 })
  attempts: number;

  /** The tries that failed: ten park the delivery as `failed`. Deferrals are not failures. */
  @Column({ name: "failures", type: "integer", default: 0 })
  failures: number;

  @Column({ name: "last_error", type: "text", nullable: true })
  lastError: string | null;

  @Column({ name: "received_at", type: "timestamptz", default: () => "now()" })
  receivedAt: Date;

  /** Not processed before this time (retry backoff for deferred items). */
  @Column({ name: "available_at", type: "timestamptz", default: () => "now()" })
  availableAt: Date;

  @Column({ name: "processed_at", type: "timestamptz", nullable: true })
  processedAt: Date | null;
}
