import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The first half of the contract of `screen_pops.payload` (decision 0005): a card still on a
 * pop's row (a pop stored before migration 14, or by a process on older code during that
 * rolling deploy) moves to `screen_pop_cards`, and the rows are cleared. From this release the
 * replay reads the cards alone; the processes still on the previous release read
 * `COALESCE(card, pop's payload)`, which finds the same cards. The column is dropped by a later
 * release, once no process reads it.
 */
export class ScreenPopCardsOnly1764000000018 implements MigrationInterface {
  name = "ScreenPopCardsOnly1764000000018";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      INSERT INTO screen_pop_cards (call_id, payload, updated_at)
      SELECT DISTINCT ON (call_id) call_id, payload, created_at FROM screen_pops WHERE payload IS NOT NULL
      ORDER BY call_id, created_at DESC
      ON CONFLICT (call_id) DO NOTHING`);
    await q.query(`UPDATE screen_pops SET payload = NULL WHERE payload IS NOT NULL`);
  }

  /** The cards stay where they are: the code before this release reads them there too. */
  async down(): Promise<void> {}
}
