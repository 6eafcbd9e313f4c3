import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The numbers that received inbound calls get a table of their own. The ingest asks "is this
 * caller one of our numbers?" for every new call; a lookup by key is cheap to plan and safe to
 * prepare, where the partial index on calls was neither (a generic plan scanned it: decision
 * 0010). It replaces that index, one less for every write of a call.
 */
export class OwnNumbers1764000000012 implements MigrationInterface {
  name = "OwnNumbers1764000000012";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE own_numbers (number text PRIMARY KEY, first_call_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(
      `INSERT INTO own_numbers (number, first_call_at)
       SELECT to_e164, min(started_at) FROM calls WHERE direction = 'inbound' AND to_e164 IS NOT NULL GROUP BY to_e164`,
    );
    await q.query(`DROP INDEX calls_to_inbound_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX calls_to_inbound_idx ON calls (to_e164) WHERE direction = 'inbound'`);
    await q.query(`DROP TABLE own_numbers`);
  }
}
