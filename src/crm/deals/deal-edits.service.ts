import type { DataSource, EntityManager } from "typeorm";
import { isUniqueViolation } from "../../platform/db/sql";
import { z } from "zod";
import { AppError } from "../../platform/errors";
import type { Actor, AuditService } from "../audit/audit.service";
import type { Principal } from "../auth/principal";
import type { OutboundEvents } from "../outbound-webhooks/outbound-events";
import { toDeal } from "./deals.query";

const amount = z.number().nonnegative().max(999_999_999_999).multipleOf(0.01);

export const newDealSchema = z
  .object({
    contactId: z.uuid(),
    title: z.string().trim().min(1).max(200),
    /** Default: the default pipeline; its first stage unless `stageId` says otherwise. */
    pipelineId: z.uuid().optional(),
    stageId: z.uuid().optional(),
    amount: amount.optional(),
    ownerId: z.uuid().optional(),
  })
  .strict();

export const dealPatchSchema = z
  .object({
    /** Moving to a won or lost stage closes the deal; back to an open stage reopens it. */
    stageId: z.uuid().optional(),
    amount: amount.nullable().optional(),
    title: z.string().trim().min(1).max(200).optional(),
    ownerId: z.uuid().nullable().optional(),
    lostReason: z.string().trim().min(1).max(500).optional(),
  })
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: "nothing to change" });

export const newPipelineSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    stages: z
      .array(z.object({ name: z.string().trim().min(1).max(100), kind: z.enum(["open", "won", "lost"]).default("open") }).strict())
      .min(2)
      .max(30)
      .refine((s) => new Set(s.map((x) => x.name.toLowerCase())).size === s.length, "stage names must differ")
      .refine((s) => s.some((x) => x.kind === "won") && s[0]!.kind === "open", "the first stage is open and one stage is won"),
  })
  .strict();

export type DealRecord = ReturnType<typeof toDeal>;

const uuid = z.uuid();

/**
 * Deals as people work them: opened by hand, moved between the stages of their pipeline (every
 * move kept in deal_stage_history), won with an amount or lost with a reason. Agents change the
 * deals they own (or nobody owns); supervisors and admins any. Every change is audited.
 */
export class DealEditsService {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly events: OutboundEvents,
  ) {}

  async create(who: Principal, actor: Actor, input: unknown, requestId?: string): Promise<DealRecord> {
    const data = newDealSchema.parse(input);
    return this.ds.transaction(async (em) => {
      const [contact] = await em.query(`SELECT 1 FROM contacts WHERE id = $1 AND deleted_at IS NULL`, [data.contactId]);
      if (!contact) throw new AppError("validation_failed", "contactId: no such contact");
      const stage = await this.startStage(em, data.pipelineId, data.stageId);
      if (stage.kind === "won" && data.amount === undefined) throw new AppError("validation_failed", "amount: a won deal needs an amount");
      const [row] = await em.query(
        `INSERT INTO deals (contact_id, pipeline_id, stage_id, title, amount, owner_id, status, closed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $7 = 'open' THEN NULL ELSE now() END) RETURNING id`,
        [data.contactId, stage.pipeline_id, stage.id, data.title, data.amount ?? null, data.ownerId ?? (who.role === "agent" ? who.id : null), stage.kind],
      );
      await em.query(`INSERT INTO deal_stage_history (deal_id, to_stage_id, changed_by) VALUES ($1, $2, $3)`, [row.id, stage.id, userOf(who)]);
      const after = await this.record(em, row.id);
      await this.audit.record(em, { actor, action: "create", entity: "deal", entityId: row.id, after, requestId });
      return after;
    });
  }

  async update(who: Principal, actor: Actor, id: string, input: unknown, requestId?: string): Promise<DealRecord> {
    if (!uuid.safeParse(id).success) throw new AppError("not_found", "No such deal");
    const patch = dealPatchSchema.parse(input);
    return this.ds.transaction(async (em) => {
      const [locked] = await em.query(`SELECT id, owner_id FROM deals WHERE id = $1 FOR UPDATE`, [id]);
      if (!locked) throw new AppError("not_found", "No such deal");
      if (who.role === "agent" && locked.owner_id && locked.owner_id !== who.id) throw new AppError("forbidden", "Agents change their own deals");
      if (who.role === "agent" && patch.ownerId !== undefined && patch.ownerId !== who.id) throw new AppError("forbidden", "Agents cannot give deals to others");
      const before = await this.record(em, id);

      let status = before.status;
      let stageMove: string | undefined;
      if (patch.stageId && patch.stageId !== before.stageId) {
        const [stage] = await em.query(`SELECT id, kind FROM pipeline_stages WHERE id = $1 AND pipeline_id = $2`, [patch.stageId, before.pipelineId]);
        if (!stage) throw new AppError("validation_failed", "stageId: not a stage of this deal's pipeline");
        status = stage.kind;
        const [move] = await em.query(`INSERT INTO deal_stage_history (deal_id, from_stage_id, to_stage_id, changed_by) VALUES ($1, $2, $3, $4) RETURNING id`, [
          id,
          before.stageId,
          stage.id,
          userOf(who),
        ]);
        stageMove = move.id;
      }
      const amountAfter = patch.amount !== undefined ? patch.amount : before.amount;
      if (status === "won" && (amountAfter === null || amountAfter === undefined)) throw new AppError("validation_failed", "amount: a won deal needs an amount");
      await em.query(
        `UPDATE deals SET stage_id = COALESCE($2, stage_id), status = $3,
           amount = CASE WHEN $4 THEN $5::numeric ELSE amount END,
           title = COALESCE($6, title),
           owner_id = CASE WHEN $7 THEN $8::uuid ELSE owner_id END,
           lost_reason = CASE WHEN $3 = 'lost' THEN COALESCE($9, lost_reason) ELSE NULL END,
           closed_at = CASE WHEN $3 = 'open' THEN NULL WHEN status = $3 THEN closed_at ELSE now() END,
           updated_at = now()
         WHERE id = $1`,
        [id, patch.stageId ?? null, status, patch.amount !== undefined, patch.amount ?? null, patch.title ?? null, patch.ownerId !== undefined, patch.ownerId ?? null, patch.lostReason ?? null],
      );
      const after = await this.record(em, id);
      await this.audit.record(em, { actor, action: "update", entity: "deal", entityId: id, before, after, requestId });
      if (stageMove) await this.events.emit(em, "deal.stage_changed", `deal.stage_changed:${stageMove}`, { deal: after, fromStage: before.stage, toStage: after.stage });
      return after;
    });
  }

  /** A deal's stages over time, oldest first. */
  async history(id: string): Promise<{ items: Array<{ fromStage: string | null; toStage: string; changedBy: string | null; changedAt: string }> }> {
    if (!uuid.safeParse(id).success) throw new AppError("not_found", "No such deal");
    const [deal] = await this.ds.query(`SELECT 1 FROM deals WHERE id = $1`, [id]);
    if (!deal) throw new AppError("not_found", "No such deal");
    const rows = await this.ds.query(
      `SELECT f.name AS from_stage, t.name AS to_stage, h.changed_by, h.changed_at
       FROM deal_stage_history h LEFT JOIN pipeline_stages f ON f.id = h.from_stage_id JOIN pipeline_stages t ON t.id = h.to_stage_id
       WHERE h.deal_id = $1 ORDER BY h.changed_at, h.id`,
      [id],
    );
    return {
      items: rows.map((r: Record<string, unknown>) => ({
        fromStage: (r.from_stage as string | null) ?? null,
        toStage: r.to_stage as string,
        changedBy: (r.changed_by as string | null) ?? null,
        changedAt: new Date(r.changed_at as string).toISOString(),
      })),
    };
  }

  async listPipelines(): Promise<{ items: Array<{ id: string; name: string; isDefault: boolean; stages: Array<{ id: string; name: string; kind: string; position: number }> }> }> {
    const rows = await this.ds.query(
      `SELECT p.id, p.name, p.is_default,
         json_agg(json_build_object('id', s.id, 'name', s.name, 'kind', s.kind, 'position', s.position) ORDER BY s.position) AS stages
       FROM pipelines p JOIN pipeline_stages s ON s.pipeline_id = p.id GROUP BY p.id ORDER BY p.position, p.name`,
    );
    return { items: rows.map((r: Record<string, unknown>) => ({ id: r.id as string, name: r.name as string, isDefault: r.is_default as boolean, stages: r.stages as Array<{ id: string; name: string; kind: string; position: number }> })) };
  }

  async createPipeline(actor: Actor, input: unknown, requestId?: string) {
    const data = newPipelineSchema.parse(input);
    try {
      return await this.ds.transaction(async (em) => {
        const [p] = await em.query(`INSERT INTO pipelines (name, position) VALUES ($1, (SELECT COALESCE(max(position), 0) + 1 FROM pipelines)) RETURNING id`, [data.name]);
        for (const [i, s] of data.stages.entries()) {
          await em.query(`INSERT INTO pipeline_stages (pipeline_id, name, position, kind) VALUES ($1, $2, $3, $4)`, [p.id, s.name, i, s.kind]);
        }
        await this.audit.record(em, { actor, action: "create", entity: "pipeline", entityId: p.id, after: data, requestId });
        return (await this.listPipelines()).items.find((x) => x.id === p.id) ?? { id: p.id, ...data };
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError("conflict", "A pipeline with this name exists");
      throw err;
    }
  }

  private async startStage(em: EntityManager, pipelineId: string | undefined, stageId: string | undefined): Promise<{ id: string; pipeline_id: string; kind: "open" | "won" | "lost" }> {
    const [stage] = stageId
      ? await em.query(`SELECT id, pipeline_id, kind FROM pipeline_stages WHERE id = $1 AND ($2::uuid IS NULL OR pipeline_id = $2)`, [stageId, pipelineId ?? null])
      : await em.query(
          `SELECT s.id, s.pipeline_id, s.kind FROM pipeline_stages s JOIN pipelines p ON p.id = s.pipeline_id
           WHERE ${pipelineId ? "p.id = $1" : "p.is_default"} ORDER BY s.position LIMIT 1`,
          pipelineId ? [pipelineId] : [],
        );
    if (!stage) throw new AppError("validation_failed", stageId ? "stageId: not a stage of that pipeline" : "pipelineId: no such pipeline");
    return stage;
  }

  private async record(em: EntityManager, id: string): Promise<DealRecord> {
    const [d] = await em.query(`SELECT d.*, s.name AS stage FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id WHERE d.id = $1`, [id]);
    return toDeal(d);
  }
}

const userOf = (who: Principal) => (who.kind === "user" ? who.id : null);
