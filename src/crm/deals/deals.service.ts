import type { EntityManager } from "typeorm";
import { prepared } from "../../platform/db/prepared";
import type { AuditService } from "../audit/audit.service";

const INGEST_ACTOR = { type: "system", id: "ingest" } as const;

const STAGE_CACHE_MS = 60_000;

/** The deal and the first line of its stage history, in one statement. */
const INSERT_CALL_DEAL = prepared(
  "deals.insert_for_call",
  `WITH deal AS (
     INSERT INTO deals (contact_id, pipeline_id, stage_id, title, owner_id, source_call_id)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id),
   history AS (INSERT INTO deal_stage_history (deal_id, to_stage_id) SELECT id, $3 FROM deal)
   SELECT id FROM deal`,
);
const OPEN_DEAL = prepared("deals.open_for_contact", `SELECT id FROM deals WHERE contact_id = $1 AND status = 'open' ORDER BY created_at DESC LIMIT 1`);

export class DealsService {
  private firstStage: { value: { stage_id: string; pipeline_id: string } | undefined; at: number } | undefined;

  constructor(private readonly audit: AuditService) {}

  /** The default pipeline's first stage; pipelines change rarely, so it is cached for a minute. */
  private async defaultFirstStage(em: EntityManager): Promise<{ stage_id: string; pipeline_id: string } | undefined> {
    if (this.firstStage && Date.now() - this.firstStage.at < STAGE_CACHE_MS) return this.firstStage.value;
    const [stage] = await em.query(
      `SELECT s.id AS stage_id, s.pipeline_id FROM pipelines p JOIN pipeline_stages s ON s.pipeline_id = p.id
       WHERE p.is_default ORDER BY s.position LIMIT 1`,
    );
    this.firstStage = { value: stage, at: Date.now() };
    return stage;
  }

  /**
   * The deal a call belongs to: the contact's newest open deal; for a first call from a new
   * contact with none, a new deal in the default pipeline's first stage.
   */
  async dealForCall(
    em: EntityManager,
    input: { contactId: string; isNewContact: boolean; callId: string; title: string; ownerId: string | null },
  ): Promise<string | null> {
    // A contact made in this very transaction has no deals yet: no need to look.
    if (!input.isNewContact) {
      const [open] = await em.query(OPEN_DEAL, [input.contactId]);
      return open?.id ?? null;
    }

    const stage = await this.defaultFirstStage(em);
    if (!stage) return null;
    const [deal] = await em.query(
      INSERT_CALL_DEAL,
      [input.contactId, stage.pipeline_id, stage.stage_id, input.title.slice(0, 200), input.ownerId, input.callId],
    );
    await this.audit.record(em, {
      actor: INGEST_ACTOR,
      action: "create",
      entity: "deal",
      entityId: deal.id,
      after: { id: deal.id, contactId: input.contactId, pipelineId: stage.pipeline_id, stageId: stage.stage_id, status: "open" },
    });
    return deal.id;
  }

  /** A deal opened by a call carries that call's attribution (for revenue by source). */
  async attributeOpenedBy(em: EntityManager, callId: string, attributionId: string): Promise<void> {
    await em.query(`UPDATE deals SET attribution_id = $2 WHERE source_call_id = $1 AND attribution_id IS NULL`, [callId, attributionId]);
  }
}
