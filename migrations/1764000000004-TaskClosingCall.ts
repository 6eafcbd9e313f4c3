import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The call that closed a call-back task by itself. Who answered that call can arrive after the
 * answer does (a leg's callback after the dial result): the task is then credited to them.
 */
export class TaskClosingCall1764000000004 implements MigrationInterface {
  name = "TaskClosingCall1764000000004";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tasks ADD COLUMN closed_by_call_id uuid REFERENCES calls(id) ON DELETE SET NULL`);
    await q.query(`CREATE INDEX tasks_closed_by_call_idx ON tasks (closed_by_call_id) WHERE closed_by_call_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tasks DROP COLUMN closed_by_call_id`);
  }
}
