import type { DataSource } from "typeorm";
import { z } from "zod";
import { decodeCursor, encodeCursor } from "../../platform/http/cursor";

export const auditQuery = z
  .object({
    entity: z.enum(["contact", "deal", "task", "user", "api_key", "setting", "note", "call"]),
    id: z.string().trim().min(1).max(100),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  })
  .strict();

/** The history of one record: who changed it, when, and the value before and after. */
export class AuditQuery {
  constructor(private readonly ds: DataSource) {}

  async history(input: unknown) {
    const f = auditQuery.parse(input);
    const params: unknown[] = [f.entity, f.id];
    let page = "";
    const after = decodeCursor(f.cursor);
    if (after) {
      params.push(after.at, after.id);
      page = `AND (a.at, a.id) < ($3::timestamptz, $4::bigint)`;
    }
    params.push(f.limit + 1);
    const rows = await this.ds.query(
      `SELECT a.id::text AS id, a.actor_type, a.actor_id, u.name AS actor_name, a.action, a.before, a.after, a.request_id, a.at,
              to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
       FROM audit_log a LEFT JOIN users u ON a.actor_type = 'user' AND u.id::text = a.actor_id
       WHERE a.entity = $1 AND a.entity_id = $2 ${page} ORDER BY a.at DESC, a.id DESC LIMIT $${params.length}`,
      params,
    );
    const last = rows[f.limit - 1];
    return {
      items: rows.slice(0, f.limit).map((r: Record<string, unknown>) => ({
        id: r.id,
        actor: { type: r.actor_type, id: r.actor_id, name: r.actor_name ?? null },
        action: r.action,
        before: r.before,
        after: r.after,
        requestId: r.request_id,
        at: new Date(r.at as Date).toISOString(),
      })),
      nextCursor: rows.length > f.limit && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null,
    };
  }
}
