import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Report columns on inbound calls, kept by the tracking component so that the attribution
 * report is one scan of calls (no join, no DISTINCT): the primary attribution's labels, who the
 * caller is (caller_key: the contact, else the number), and for each grouping the start of the
 * caller's previous inbound call in the same group. A call is a new unique caller for a period
 * when that previous call is missing or before the period starts.
 */
export class CallReportColumns1764000000006 implements MigrationInterface {
  name = "CallReportColumns1764000000006";

  async up(q: QueryRunner): Promise<void> {
    // The backfill touches every call: not bound by the per-statement limit requests have.
    await q.query(`SET LOCAL statement_timeout = 0`);
    await q.query(`
      ALTER TABLE calls
        ADD COLUMN caller_key text,
        ADD COLUMN attr_source text,
        ADD COLUMN attr_medium text,
        ADD COLUMN attr_campaign text,
        ADD COLUMN attr_keyword text,
        ADD COLUMN prev_call_at timestamptz,
        ADD COLUMN prev_source_at timestamptz,
        ADD COLUMN prev_medium_at timestamptz,
        ADD COLUMN prev_campaign_at timestamptz,
        ADD COLUMN prev_keyword_at timestamptz`);
    await q.query(`CREATE INDEX calls_caller_key_idx ON calls (caller_key, started_at) WHERE direction = 'inbound'`);
    // Existing calls, as the code keeps them from now on (src/tracking/reports/report-columns.ts).
    await q.query(`
      UPDATE calls c SET caller_key = COALESCE(c.contact_id::text, c.from_e164),
        attr_source = a.source, attr_medium = a.medium, attr_campaign = a.campaign, attr_keyword = a.keyword
      FROM calls x LEFT JOIN call_attributions a ON a.call_id = x.id AND a.is_primary
      WHERE x.id = c.id AND c.direction = 'inbound'`);
    await q.query(`
      UPDATE calls c SET prev_call_at = x.p0, prev_source_at = x.p1, prev_medium_at = x.p2, prev_campaign_at = x.p3, prev_keyword_at = x.p4
      FROM (SELECT id,
              lag(started_at) OVER (PARTITION BY caller_key ORDER BY started_at, id) AS p0,
              lag(started_at) OVER (PARTITION BY caller_key, attr_source ORDER BY started_at, id) AS p1,
              lag(started_at) OVER (PARTITION BY caller_key, attr_medium ORDER BY started_at, id) AS p2,
              lag(started_at) OVER (PARTITION BY caller_key, attr_campaign ORDER BY started_at, id) AS p3,
              lag(started_at) OVER (PARTITION BY caller_key, attr_keyword ORDER BY started_at, id) AS p4
            FROM calls WHERE direction = 'inbound' AND caller_key IS NOT NULL) x
      WHERE x.id = c.id`);
    // Built after the backfill. The attribution report reads only this index (an index-only
    // scan of the period), never the wide call rows.
    await q.query(`
      CREATE INDEX calls_report_idx ON calls (started_at)
        INCLUDE (caller_key, outcome, is_first_time_caller, attr_source, attr_medium, attr_campaign, attr_keyword,
                 prev_call_at, prev_source_at, prev_medium_at, prev_campaign_at, prev_keyword_at)
        WHERE direction = 'inbound'`);
    // Deals a call opened, by when they were opened: the report's deal figures.
    await q.query(`CREATE INDEX deals_opened_by_call_idx ON deals (created_at) INCLUDE (status, amount, attribution_id) WHERE source_call_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX deals_opened_by_call_idx`);
    await q.query(`DROP INDEX calls_report_idx`);
    await q.query(`DROP INDEX calls_caller_key_idx`);
    await q.query(`
      ALTER TABLE calls DROP COLUMN caller_key, DROP COLUMN attr_source, DROP COLUMN attr_medium, DROP COLUMN attr_campaign,
        DROP COLUMN attr_keyword, DROP COLUMN prev_call_at, DROP COLUMN prev_source_at, DROP COLUMN prev_medium_at,
        DROP COLUMN prev_campaign_at, DROP COLUMN prev_keyword_at`);
  }
}
