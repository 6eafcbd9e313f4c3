import type { EntityManager } from "typeorm";
import { AuditLogEntry, type AuditAction } from "../entities/audit-log.entity";
import type { Principal } from "../auth/principal";

export type Actor = { type: "user" | "api_key"; id: string } | { type: "system"; id?: string };

export const actorOf = (p: Principal | undefined): Actor =>
  p ? { type: p.kind, id: p.id } : { type: "system" };

export interface AuditEntry {
  actor: Actor;
  action: AuditAction;
  entity: string;
  entityId: string;
  before?: unknown;
  after?: unknown;
  requestId?: string;
}

/** Written inside the caller's transaction, so a change and its audit entry commit together. */
export class AuditService {
  async record(em: EntityManager, e: AuditEntry): Promise<void> {
    await em.insert(AuditLogEntry, {
      actorType: e.actor.type,
      actorId: e.actor.id ?? null,
      action: e.action,
      entity: e.entity,
      entityId: e.entityId,
      before: (e.before ?? null) as never,
      after: (e.after ?? null) as never,
      requestId: e.requestId ?? null,
    });
  }
}
