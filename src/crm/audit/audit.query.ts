import type { DataSource } from "typeorm";
import { z } from "zod";
import { cursorAt, KeysetQuery, pageFields, toPage } from "../../platform/db/keyset";

export const auditQuery = z
  .object({
    entity: z.enum(["contact", "deal", "task", "user", "api_key", "setting", "note", "call", "pipeline", "tracking_number", "tracking_pool", "webhook_subscription", "webhook_delivery"]),
    id: z.string().trim().min(1).max(100),
    ...pageFields(50),
  })
  .strict();

/** The history of one record: who changed it, when, and the value before and after. */
export class AuditQuery {
  constructor(private readonly ds: DataSource) {}

  async history(input: unknown) {
    const f = auditQuery.parse(input);
    const q = new KeysetQuery().where("a.entity = ?", f.entity).where("a.entity_id = ?", f.id).after(f.cursor, "a.at", "a.id", "<", "bigint");
    const rows = await this.ds.query(
      `SELECT a.id::text AS id, a.actor_type, a.actor_id, u.name AS actor_name, a.action, a.before, a.after, a.request_id, a.at,
              ${cursorAt("a.at")} AS cursor_at
       FROM audit_log a LEFT JOIN users u ON a.actor_type = 'user' AND u.id::text = a.actor_id
       WHERE ${q.whereSql} ORDER BY a.at DESC, a.id DESC LIMIT ${q.limitSql(f.limit)}`,
      q.params,
    );
    return toPage(rows, f.limit, (r: Record<string, unknown>) => ({
      id: r.id,
      actor: { type: r.actor_type, id: r.actor_id, name: r.actor_name ?? null },
      action: r.action,
      before: r.before,
      after: r.after,
      requestId: r.request_id,
      at: new Date(r.at as Date).toISOString(),
    }));
  }
}
