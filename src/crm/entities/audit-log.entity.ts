import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";

export const AUDIT_ACTOR_TYPES = ["user", "api_key", "system"] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];

/** `place`: a user placed a call (click-to-call); `listen`: a supervisor listened in on one. */
export const AUDIT_ACTIONS = ["create", "update", "delete", "place", "listen"] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

// Append-only. actor_id and entity_id are text, not uuid, so any actor/entity kind fits.
@Entity({ name: "audit_log" })
export class AuditLogEntry {
  /** bigint: pg returns it as a string. */
  @PrimaryGeneratedColumn("identity", { name: "id", type: "bigint", generatedIdentity: "ALWAYS" })
  id: string;

  @Column({ name: "actor_type", type: "text" })
  actorType: AuditActorType;

  @Column({ name: "actor_id", type: "text", nullable: true })
  actorId: string | null;

  @Column({ name: "action", type: "text" })
  action: AuditAction;

  @Column({ name: "entity", type: "text" })
  entity: string;

  @Column({ name: "entity_id", type: "text" })
  entityId: string;

  @Column({ name: "before", type: "jsonb", nullable: true })
  before: Record<string, unknown> | null;

  @Column({ name: "after", type: "jsonb", nullable: true })
  after: Record<string, unknown> | null;

  @Column({ name: "request_id", type: "text", nullable: true })
  requestId: string | null;

  @Column({ name: "at", type: "timestamptz", default: () => "now()" })
  at: Date;
}
