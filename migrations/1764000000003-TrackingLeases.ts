import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Dynamic number insertion: a pool number carries its current lease, so leasing is one
 * conditional UPDATE (no double lease under concurrency); a session keeps the number it was
 * shown, so a call to that number finds the sessions that held it when the phone rang.
 */
export class TrackingLeases1764000000003 implements MigrationInterface {
  name = "TrackingLeases1764000000003";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE tracking_numbers
        ADD COLUMN leased_session_id uuid REFERENCES tracking_sessions(id) ON DELETE SET NULL,
        ADD COLUMN leased_until timestamptz`);
    await q.query(`CREATE INDEX tracking_numbers_free_idx ON tracking_numbers (pool_id, leased_until NULLS FIRST) WHERE is_active AND pool_id IS NOT NULL`);
    await q.query(`
      ALTER TABLE tracking_sessions
        ADD COLUMN number text,
        ADD COLUMN is_shared boolean NOT NULL DEFAULT false`);
    await q.query(`CREATE INDEX tracking_sessions_shown_idx ON tracking_sessions (number, lease_expires_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX tracking_sessions_shown_idx`);
    await q.query(`ALTER TABLE tracking_sessions DROP COLUMN is_shared, DROP COLUMN number`);
    await q.query(`DROP INDEX tracking_numbers_free_idx`);
    await q.query(`ALTER TABLE tracking_numbers DROP COLUMN leased_until, DROP COLUMN leased_session_id`);
  }
}
