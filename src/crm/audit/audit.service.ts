import type { EntityManager } from "typeorm";
import { appendOnlyTable, appendRow } from "../../platform/db/deferred-writes";
import type { AuditAction } from "../entities/audit-log.entity";
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

const AUDIT_LOG = appendOnlyTable("audit_log", {
  actor_type: "text",
  actor_id: "text",
  action: "text",
  entity: "text",
  entity_id: "text",
  before: "jsonb",
  after: "jsonb",
  request_id: "text",
});

const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));

/**
 * Written inside the caller's transaction, so a change and its audit entry commit together.
 * Where the transaction defers its appends (an inbox delivery: DeferredWrites), the entry is
 * written with the others when the work is done.
 */
export class AuditService {
  async record(em: EntityManager, e: AuditEntry): Promise<void> {
    await appendRow(em, AUDIT_LOG, [e.actor.type, e.actor.id ?? null, e.action, e.entity, e.entityId, json(e.before), json(e.after), e.requestId ?? null]);
  }
}
