import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * What the purge of website sessions needs (docs/decisions/0015-retention.md):
 * - `tracking_sessions_seen_idx`: sessions by when they were last seen. A lease's update was
 *   never HOT (the lease's end is indexed), so this is one more index entry per lease.
 * - `tracking_pool_exhaustions_occurred_idx`: the exhaustions by age (the pool report reads
 *   them by pool).
 * - `call_attributions.session_id` and `tracking_pool_exhaustions.session_id` stop being
 *   foreign keys: they stay the session a call or an exhaustion came from while the sessions
 *   keep it. Deleting a session would otherwise look for its attributions in a table with no
 *   index on that column (a scan of every attribution per session). An attribution keeps its
 *   own copy of what the session knew (source, campaign, keyword, click id, pages).
 * `tracking_numbers.leased_session_id` stays a foreign key (`ON DELETE SET NULL`): the numbers
 * are few, and a purged session's lease ended long before.
 */
export class TrackingSessionRetention1764000000016 implements MigrationInterface {
  name = "TrackingSessionRetention1764000000016";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE call_attributions DROP CONSTRAINT call_attributions_session_id_fkey`);
    await q.query(`ALTER TABLE tracking_pool_exhaustions DROP CONSTRAINT tracking_pool_exhaustions_session_id_fkey`);
    await q.query(`CREATE INDEX tracking_pool_exhaustions_occurred_idx ON tracking_pool_exhaustions (occurred_at)`);
    await q.query(`CREATE INDEX tracking_sessions_seen_idx ON tracking_sessions (last_seen_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX tracking_sessions_seen_idx`);
    await q.query(`DROP INDEX tracking_pool_exhaustions_occurred_idx`);
    for (const table of ["call_attributions", "tracking_pool_exhaustions"]) {
      await q.query(`UPDATE ${table} t SET session_id = NULL WHERE session_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM tracking_sessions s WHERE s.id = t.session_id)`);
      await q.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_session_id_fkey FOREIGN KEY (session_id) REFERENCES tracking_sessions(id) ON DELETE SET NULL`);
    }
  }
}
