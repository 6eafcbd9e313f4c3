import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";

// Append-only timeline of provider events per call; the class name leaves `CallEvent` free for
// the normalized in-memory event type.
@Entity({ name: "call_events" })
export class CallEventRecord {
  /** bigint: pg returns it as a string. Ties on occurred_at are ordered by id. */
  @PrimaryGeneratedColumn("identity", { name: "id", type: "bigint", generatedIdentity: "ALWAYS" })
  id: string;

  @Column({ name: "call_id", type: "uuid" })
  callId: string;

  /** The inbox delivery this event came from (webhooks component), while the inbox keeps it: not a foreign key (migration 15). */
  @Column({ name: "inbox_id", type: "uuid", nullable: true })
  inboxId: string | null;

  @Column({ name: "type", type: "text" })
  type: string;

  @Column({ name: "provider_status", type: "text", nullable: true })
  providerStatus: string | null;

  @Column({ name: "sequence", type: "integer", nullable: true })
  sequence: number | null;

  @Column({ name: "occurred_at", type: "timestamptz" })
  occurredAt: Date;

  @Column({ name: "payload", type: "jsonb" })
  payload: Record<string, unknown>;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;
}
