import type { DataSource } from "typeorm";
import { z } from "zod";
import { decodeCursor, encodeCursor } from "../../platform/http/cursor";

export const listDealsQuery = z
  .object({
    contactId: z.uuid().optional(),
    pipelineId: z.uuid().optional(),
    status: z.enum(["open", "won", "lost"]).optional(),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(25),
  })
  .strict();

/** Read side of deals: the contract's Deal `{ id, contactId, pipelineId, stage, amount, status }`. */
export class DealsQuery {
  constructor(private readonly ds: DataSource) {}

  async list(input: unknown) {
    const f = listDealsQuery.parse(input);
    const where: string[] = ["TRUE"];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace("?", `$${params.length}`));
    };
    if (f.contactId) add("d.contact_id = ?", f.contactId);
    if (f.pipelineId) add("d.pipeline_id = ?", f.pipelineId);
    if (f.status) add("d.status = ?", f.status);
    const after = decodeCursor(f.cursor);
    if (after) {
      params.push(after.at, after.id);
      where.push(`(d.created_at, d.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(f.limit + 1);
    const rows = await this.ds.query(
      `SELECT d.id, d.contact_id, d.pipeline_id, d.stage_id, s.name AS stage, d.amount, d.currency, d.status, d.title, d.owner_id,
              d.source_call_id, d.created_at, d.closed_at,
              to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
       FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id
       WHERE ${where.join(" AND ")} ORDER BY d.created_at DESC, d.id DESC LIMIT $${params.length}`,
      params,
    );
    const last = rows[f.limit - 1];
    return {
      items: rows.slice(0, f.limit).map((d: Record<string, unknown>) => ({
        id: d.id,
        contactId: d.contact_id,
        pipelineId: d.pipeline_id,
        stageId: d.stage_id,
        stage: d.stage,
        amount: d.amount,
        currency: d.currency,
        status: d.status,
        title: d.title,
        ownerId: d.owner_id,
        sourceCallId: d.source_call_id,
        createdAt: new Date(d.created_at as Date).toISOString(),
        closedAt: d.closed_at ? new Date(d.closed_at as Date).toISOString() : null,
      })),
      nextCursor: rows.length > f.limit && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null,
    };
  }
}
