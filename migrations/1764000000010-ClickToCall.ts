import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Click-to-call: an outbound call remembers who started it (per-user limits, the agent it
 * belongs to), and a call-back task counts the attempts made from it. A call's history also
 * says who placed it and who listened in (audit actions `place` and `listen`).
 */
export class ClickToCall1764000000010 implements MigrationInterface {
  name = "ClickToCall1764000000010";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE calls ADD COLUMN initiated_by uuid REFERENCES users(id) ON DELETE SET NULL`);
    // Limits count the calls started in the last hour, per user and in all.
    await q.query(`CREATE INDEX calls_initiated_idx ON calls (started_at, initiated_by) WHERE initiated_by IS NOT NULL`);
    await q.query(`ALTER TABLE tasks ADD COLUMN call_attempts integer NOT NULL DEFAULT 0, ADD COLUMN last_call_attempt_at timestamptz`);
    await q.query(`ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check`);
    await q.query(`ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN ('create','update','delete','place','listen'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM audit_log WHERE action IN ('place','listen')`);
    await q.query(`ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check`);
    await q.query(`ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN ('create','update','delete'))`);
    await q.query(`ALTER TABLE tasks DROP COLUMN call_attempts, DROP COLUMN last_call_attempt_at`);
    await q.query(`DROP INDEX calls_initiated_idx`);
    await q.query(`ALTER TABLE calls DROP COLUMN initiated_by`);
  }
}
