import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";

export const OUTBOX_STATUSES = ["pending", "done", "failed"] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

// Written in the same transaction as the state change it announces, then published after commit,
// so an event is never sent for a rolled-back change nor lost for a committed one.
@Entity({ name: "outbox" })
export class OutboxMessage {
  /** bigint: pg returns it as a string. Pending rows are drained in (available_at, id) order. */
  @PrimaryGeneratedColumn("identity", { name: "id", type: "bigint", generatedIdentity: "ALWAYS" })
  id: string;

  @Column({ name: "topic", type: "text" })
  topic: string;

  @Column({ name: "payload", type: "jsonb" })
  payload: Record<string, unknown>;

  /** Unique when set: enqueueing the same logical message twice keeps one row. */
  @Column({ name: "dedupe_key", type: "text", nullable: true })
  dedupeKey: string | null;

  @Column({ name: "status", type: "text", default: "pending" })
  status: OutboxStatus;

  @Column({ name: "attempts", type: "integer", default: 0 })
  attempts: number;

  @Column({ name: "last_error", type: "text", nullable: true })
  lastError: string | null;

  @Column({ name: "available_at", type: "timestamptz", default: () => "now()" })
  availableAt: Date;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @Column({ name: "processed_at", type: "timestamptz", nullable: true })
  processedAt: Date | null;
}
