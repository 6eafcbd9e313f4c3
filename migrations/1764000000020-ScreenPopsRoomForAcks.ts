import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Room on each page of `screen_pops` for its rows' next versions. A pop is written and then,
 * within milliseconds, acknowledged (and later dismissed); neither update touches an indexed
 * column, so each can be HOT (no new index entries) if the row's page has room for the new
 * version. Filled to the brim by the inserts, half the acks found none (the bench's database:
 * 62,054 HOT of 120,327 updates) and so wrote a new entry in both of the table's indexes, a
 * random page of the primary key's among them. 20% left free holds the acks of the pops last
 * written to a page until pruning frees the versions they replaced. Applies to pages written
 * from now on; the table's rows are purged within days anyway.
 */
export class ScreenPopsRoomForAcks1764000000020 implements MigrationInterface {
  name = "ScreenPopsRoomForAcks1764000000020";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE screen_pops SET (fillfactor = 80)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE screen_pops RESET (fillfactor)`);
  }
}
