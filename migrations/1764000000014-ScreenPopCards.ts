import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * A screen-pop's card is stored once per call, not once per agent it rang.
 *
 * A ringing call pops for up to ten agents, and each of their `screen_pops` rows carried the same
 * card (~1 KB of JSON), written when the pops were stored and written again, whole, when each
 * agent's ack updated its row (a wide row leaves no room on its page for a HOT update). Under
 * the bench's 100 calls/s those two statements were 40% of PostgreSQL's execution time and most
 * of its WAL. The card now lives in `screen_pop_cards` (one row per call, the latest card
 * built), and a pop row is a narrow one whose ack is a HOT update.
 *
 * Expand, then contract: `screen_pops.payload` only becomes nullable here. Processes still on
 * the code before this migration keep writing and reading it during a rolling deploy (one of
 * them replaying a newer pop to a reconnecting agent sends it without its card until the agent
 * reconnects to a newer process), and the replay reads it for pops stored before (`COALESCE`).
 * A later migration drops it once no such pop can still be ringing.
 */
export class ScreenPopCards1764000000014 implements MigrationInterface {
  name = "ScreenPopCards1764000000014";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE screen_pop_cards (
        call_id uuid PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,
        payload jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`ALTER TABLE screen_pops ALTER COLUMN payload DROP NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE screen_pops p SET payload = k.payload FROM screen_pop_cards k WHERE k.call_id = p.call_id AND p.payload IS NULL`);
    // A pop whose card is gone with nothing of its own cannot be replayed meaningfully anyway.
    await q.query(`UPDATE screen_pops SET payload = '{}' WHERE payload IS NULL`);
    await q.query(`ALTER TABLE screen_pops ALTER COLUMN payload SET NOT NULL`);
    await q.query(`DROP TABLE screen_pop_cards`);
  }
}
