import type { EntityManager } from "typeorm";
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

/**
 * Written inside the caller's transaction, so a change and its audit entry commit together.
 * Inside `batch`, entries are gathered and written in one statement at the end (the ingest
 * records several per delivery).
 */
export class AuditService {
  private readonly buffers = new WeakMap<EntityManager, AuditEntry[]>();

  async record(em: EntityManager, e: AuditEntry): Promise<void> {
    const buffer = this.buffers.get(em);
    if (buffer) buffer.push(e);
    else await this.insert(em, [e]);
  }

  /** Runs `work` in this transaction; the entries it records are inserted together after it succeeds. */
  async batch<T>(em: EntityManager, work: () => Promise<T>): Promise<T> {
    if (this.buffers.has(em)) return work();
    const buffer: AuditEntry[] = [];
    this.buffers.set(em, buffer);
    try {
      const result = await work();
      await this.insert(em, buffer);
      return result;
    } finally {
      this.buffers.delete(em);
    }
  }

  private async insert(em: EntityManager, entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
    await em.query(
      `INSERT INTO audit_log (actor_type, actor_id, action, entity, entity_id, before, after, request_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::text[])`,
      [
        entries.map((e) => e.actor.type),
        entries.map((e) => e.actor.id ?? null),
        entries.map((e) => e.action),
        entries.map((e) => e.entity),
        entries.map((e) => e.entityId),
        entries.map((e) => json(e.before)),
        entries.map((e) => json(e.after)),
        entries.map((e) => e.requestId ?? null),
      ],
    );
  }
}
