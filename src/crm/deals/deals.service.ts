import type { EntityManager } from "typeorm";
import { write } from "../../platform/db/deferred-writes";
import { prepared } from "../../platform/db/prepared";
import type { AuditService } from "../audit/audit.service";

/** The attribution row a deal points at, and the labels the report groups its deals by. */
export interface DealAttribution {
  id: string;
  source: string | null;
  medium: string | null;
  campaign: string | null;
  keyword: string | null;
}

const INGEST_ACTOR = { type: "system", id: "ingest" } as const;

const STAGE_CACHE_MS = 60_000;

const ATTRIBUTE_OPENED_BY = prepared(
  "deals.attribute_opened_by",
  `UPDATE deals SET attribution_id = $2, attr_source = $3, attr_medium = $4, attr_campaign = $5, attr_keyword = $6
   WHERE source_call_id = $1 AND (attribution_id IS NULL OR attribution_id = $2)`,
);
const OPEN_DEAL = prepared("deals.open_for_contact", `SELECT id FROM deals WHERE contact_id = $1 AND status = 'open' ORDER BY created_at DESC LIMIT 1`);

export class DealsService {
  private firstStage: { value: { stage_id: string; pipeline_id: string } | undefined; at: number } | undefined;

  constructor(private readonly audit: AuditService) {}

  /** The default pipeline's first stage; pipelines change rarely, so it is cached for a minute. */
  async defaultFirstStage(em: EntityManager): Promise<{ stage_id: string; pipeline_id: string } | undefined> {
    if (this.firstStage && Date.now() - this.firstStage.at < STAGE_CACHE_MS) return this.firstStage.value;
    const [stage] = await em.query(
      `SELECT s.id AS stage_id, s.pipeline_id FROM pipelines p JOIN pipeline_stages s ON s.pipeline_id = p.id
       WHERE p.is_default ORDER BY s.position LIMIT 1`,
    );
    this.firstStage = { value: stage, at: Date.now() };
    return stage;
  }

  /** The contact's newest open deal, which their calls join. */
  async openDealOf(em: EntityManager, contactId: string): Promise<string | null> {
    const [open] = await em.query(OPEN_DEAL, [contactId]);
    return open?.id ?? null;
  }

  /** A deal that a first call opened (see CallerRecordsService): audited like any new deal. */
  async recordOpenedByCall(em: EntityManager, dealId: string, contactId: string, stage: { stage_id: string; pipeline_id: string }): Promise<void> {
    await this.audit.record(em, {
      actor: INGEST_ACTOR,
      action: "create",
      entity: "deal",
      entityId: dealId,
      after: { id: dealId, contactId, pipelineId: stage.pipeline_id, stageId: stage.stage_id, status: "open" },
    });
  }

  /**
   * A deal opened by a call carries that call's primary attribution and its labels (for revenue
   * by source; the report reads the labels, decision 0007). Called again with the same row when
   * a tracker's report rewrites it in place.
   */
  async attributeOpenedBy(em: EntityManager, callId: string, attribution: DealAttribution, opts: { withClosingStatement?: boolean } = {}): Promise<void> {
    const a = attribution;
    // `withClosingStatement`: the caller vouches that nothing in its delivery reads the deal again (DeferredWrites.later).
    await write(em, { sql: ATTRIBUTE_OPENED_BY, params: [callId, a.id, a.source, a.medium, a.campaign, a.keyword] }, opts);
  }
}
