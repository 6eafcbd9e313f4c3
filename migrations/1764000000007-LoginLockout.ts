import type { MigrationInterface, QueryRunner } from "typeorm";

/** Failed sign-ins in a row per account, and until when the account is locked after too many. */
export class LoginLockout1764000000007 implements MigrationInterface {
  name = "LoginLockout1764000000007";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN failed_logins integer NOT NULL DEFAULT 0, ADD COLUMN locked_until timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN failed_logins, DROP COLUMN locked_until`);
  }
}
