import type { EntityManager } from "typeorm";
import { DeferredWrites, type DeferredTable } from "../../platform/db/deferred-writes";
import { prepared } from "../../platform/db/prepared";
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

const AUDIT_TABLE: DeferredTable = {
  table: "audit_log",
  columns: [
    { name: "actor_type", type: "text" },
    { name: "actor_id", type: "text" },
    { name: "action", type: "text" },
    { name: "entity", type: "text" },
    { name: "entity_id", type: "text" },
    { name: "before", type: "jsonb" },
    { name: "after", type: "jsonb" },
    { name: "request_id", type: "text" },
  ],
};

const INSERT_AUDIT = prepared(
  "audit_log.insert",
  `INSERT INTO audit_log (actor_type, actor_id, action, entity, entity_id, before, after, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
);

const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));

/**
 * Written inside the caller's transaction, so a change and its audit entry commit together.
 * Where the transaction defers its appends (an inbox delivery: DeferredWrites), the entry is
 * written with the others when the work is done.
 */
export class AuditService {
  async record(em: EntityManager, e: AuditEntry): Promise<void> {
    const row = [e.actor.type, e.actor.id ?? null, e.action, e.entity, e.entityId, json(e.before), json(e.after), e.requestId ?? null];
    const deferred = DeferredWrites.of(em);
    if (deferred) deferred.add(AUDIT_TABLE, row);
    else await em.query(INSERT_AUDIT, row);
  }
}
