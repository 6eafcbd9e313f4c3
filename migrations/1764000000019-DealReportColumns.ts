import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The labels of a deal's attribution (the primary attribution of the call that opened it) on
 * the deal itself, kept by the tracking component like the calls' report columns (decision
 * 0007). The attribution report's deal figures then read one covering index instead of joining
 * every deal of the period to call_attributions (~200–600 ms for 50,000 deals, the report's
 * larger half, down to ~25 ms).
 *
 * Expand only: processes on the previous release, during a rolling deploy, link deals without
 * labels; `npm run cli -- reports:rebuild` after the rollout labels them (it writes only rows
 * that differ).
 */
export class DealReportColumns1764000000019 implements MigrationInterface {
  name = "DealReportColumns1764000000019";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`SET LOCAL statement_timeout = 0`);
    await q.query(`ALTER TABLE deals ADD COLUMN attr_source text, ADD COLUMN attr_medium text, ADD COLUMN attr_campaign text, ADD COLUMN attr_keyword text`);
    await q.query(`
      UPDATE deals d SET attr_source = a.source, attr_medium = a.medium, attr_campaign = a.campaign, attr_keyword = a.keyword
      FROM call_attributions a WHERE a.id = d.attribution_id`);
    // Rebuilt after the backfill, with the labels in place of attribution_id, which the report no longer reads.
    await q.query(`DROP INDEX deals_opened_by_call_idx`);
    await q.query(`
      CREATE INDEX deals_opened_by_call_idx ON deals (created_at)
        INCLUDE (status, amount, attr_source, attr_medium, attr_campaign, attr_keyword) WHERE source_call_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX deals_opened_by_call_idx`);
    await q.query(`CREATE INDEX deals_opened_by_call_idx ON deals (created_at) INCLUDE (status, amount, attribution_id) WHERE source_call_id IS NOT NULL`);
    await q.query(`ALTER TABLE deals DROP COLUMN attr_source, DROP COLUMN attr_medium, DROP COLUMN attr_campaign, DROP COLUMN attr_keyword`);
  }
}
