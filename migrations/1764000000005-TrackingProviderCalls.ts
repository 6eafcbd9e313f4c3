import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Calls as call-tracking providers (CallRail, a generic tracker) report them. A report may come
 * before or after the telephony events of the same call: it is kept here until a call matches
 * (by the telephony call id, else caller + tracking/business number + a time window).
 */
export class TrackingProviderCalls1764000000005 implements MigrationInterface {
  name = "TrackingProviderCalls1764000000005";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tracking_provider_calls (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        provider text NOT NULL,
        provider_call_id text NOT NULL,
        telephony_call_id text,
        caller text,
        tracking_number text,
        business_number text,
        started_at timestamptz NOT NULL,
        source text,
        medium text,
        campaign text,
        keyword text,
        click_id text,
        click_id_type text,
        landing_page text,
        referrer text,
        first_call boolean,
        call_id uuid REFERENCES calls(id) ON DELETE SET NULL,
        last_delivery_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT tracking_provider_calls_key UNIQUE (provider, provider_call_id)
      )`);
    await q.query(`CREATE INDEX tracking_provider_calls_unmatched_idx ON tracking_provider_calls (caller, started_at) WHERE call_id IS NULL`);
    await q.query(`CREATE INDEX tracking_provider_calls_telephony_idx ON tracking_provider_calls (telephony_call_id) WHERE call_id IS NULL AND telephony_call_id IS NOT NULL`);
    await q.query(`CREATE INDEX tracking_provider_calls_call_idx ON tracking_provider_calls (call_id)`);
    await q.query(`CREATE INDEX calls_caller_idx ON calls (from_e164, started_at) WHERE direction = 'inbound'`);
    // A call's attribution is copied onto the deal it opened (looked up by that call).
    await q.query(`CREATE INDEX deals_source_call_idx ON deals (source_call_id) WHERE source_call_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX deals_source_call_idx`);
    await q.query(`DROP INDEX calls_caller_idx`);
    await q.query(`DROP TABLE tracking_provider_calls`);
  }
}
