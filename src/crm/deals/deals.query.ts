import type { DataSource } from "typeorm";
import { z } from "zod";
import { cursorAt, KeysetQuery, pageFields, toPage } from "../../platform/db/keyset";

export const listDealsQuery = z
  .object({
    contactId: z.uuid().optional(),
    pipelineId: z.uuid().optional(),
    status: z.enum(["open", "won", "lost"]).optional(),
    ...pageFields(),
  })
  .strict();

/** Read side of deals: the contract's Deal `{ id, contactId, pipelineId, stage, amount, status }`. */
export class DealsQuery {
  constructor(private readonly ds: DataSource) {}

  async list(input: unknown) {
    const f = listDealsQuery.parse(input);
    const q = new KeysetQuery();
    if (f.contactId) q.where("d.contact_id = ?", f.contactId);
    if (f.pipelineId) q.where("d.pipeline_id = ?", f.pipelineId);
    if (f.status) q.where("d.status = ?", f.status);
    q.after(f.cursor, "d.created_at", "d.id", "<");
    const rows = await this.ds.query(
      `SELECT d.id, d.contact_id, d.pipeline_id, d.stage_id, s.name AS stage, d.amount, d.currency, d.status, d.title, d.owner_id,
              d.source_call_id, d.lost_reason, d.created_at, d.closed_at, ${cursorAt("d.created_at")} AS cursor_at
       FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id
       WHERE ${q.whereSql} ORDER BY d.created_at DESC, d.id DESC LIMIT ${q.limitSql(f.limit)}`,
      q.params,
    );
    return toPage(rows, f.limit, toDeal);
  }
}

/** The contract's Deal from a row of deals joined with its stage (`stage` = the stage's name). */
export const toDeal = (d: Record<string, unknown>) => ({
  id: d.id as string,
  contactId: d.contact_id as string,
  pipelineId: d.pipeline_id as string,
  stageId: d.stage_id as string,
  stage: d.stage as string,
  amount: d.amount as string | null,
  currency: d.currency as string,
  status: d.status as "open" | "won" | "lost",
  title: d.title as string,
  ownerId: d.owner_id as string | null,
  sourceCallId: d.source_call_id as string | null,
  lostReason: (d.lost_reason as string | null) ?? null,
  createdAt: new Date(d.created_at as Date).toISOString(),
  closedAt: d.closed_at ? new Date(d.closed_at as Date).toISOString() : null,
});
