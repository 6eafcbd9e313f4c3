import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * `inbox.failures`: the tries of a delivery that failed, apart from `attempts` (every try,
 * deferrals included, which also names the try's queue job). A delivery parks as `failed` after
 * ten failures; it used to park after ten attempts, so a recording that had waited for its call
 * through ten deferrals was parked by its first failure. Existing rows start at 0: a pending
 * row gets a full set of failures, a failed one stays failed.
 */
export class InboxFailures1764000000017 implements MigrationInterface {
  name = "InboxFailures1764000000017";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE inbox ADD COLUMN failures integer NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE inbox DROP COLUMN failures`);
  }
}
