import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Supervisors listening in on a live call: one row per listener and call. Listeners of one call
 * share one Twilio media stream (`stream_sid`); it is stopped when the last of them leaves.
 */
export class ListenSessions1764000000011 implements MigrationInterface {
  name = "ListenSessions1764000000011";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE listen_sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        call_id uuid NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        provider_call_id text NOT NULL,
        stream_sid text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        ended_at timestamptz,
        end_reason text
      )`);
    // One live session per listener and call (a second tab joins the same one).
    await q.query(`CREATE UNIQUE INDEX listen_sessions_live_idx ON listen_sessions (call_id, user_id) WHERE ended_at IS NULL`);
    await q.query(`CREATE INDEX listen_sessions_stream_idx ON listen_sessions (stream_sid) WHERE ended_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE listen_sessions`);
  }
}
