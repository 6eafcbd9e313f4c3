import type { MigrationInterface, QueryRunner } from "typeorm";

/** Numbers that received inbound calls are ours: the ingest looks them up to never take them for callers. */
export class OwnNumberLookup1764000000002 implements MigrationInterface {
  name = "OwnNumberLookup1764000000002";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX calls_to_inbound_idx ON calls (to_e164) WHERE direction = 'inbound'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX calls_to_inbound_idx`);
  }
}
