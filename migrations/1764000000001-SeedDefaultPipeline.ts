import type { MigrationInterface, QueryRunner } from "typeorm";

/** Every install starts with one default "Sales" pipeline, so a first call can open a deal. */
export class SeedDefaultPipeline1764000000001 implements MigrationInterface {
  name = "SeedDefaultPipeline1764000000001";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      WITH p AS (INSERT INTO pipelines (name, is_default, position) VALUES ('Sales', true, 0) RETURNING id)
      INSERT INTO pipeline_stages (pipeline_id, name, position, kind)
      SELECT p.id, s.name, s.position, s.kind FROM p, (VALUES
        ('New lead', 0, 'open'), ('Qualified', 1, 'open'), ('Proposal', 2, 'open'),
        ('Negotiation', 3, 'open'), ('Won', 4, 'won'), ('Lost', 5, 'lost')
      ) AS s(name, position, kind)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM pipelines WHERE name = 'Sales' AND is_default`);
  }
}
