import type { MigrationInterface, QueryRunner } from "typeorm";

/** The missed-calls report finds each missed call's call-back task by the calls it lists. */
export class TaskMissedCallsIndex1764000000008 implements MigrationInterface {
  name = "TaskMissedCallsIndex1764000000008";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX tasks_missed_calls_idx ON tasks USING gin (missed_call_ids)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX tasks_missed_calls_idx`);
  }
}
