import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * What the periodic purge needs (docs/decisions/0015-retention.md):
 * - `inbox_settled_idx`: applied and ignored deliveries by age. A delivery's "done" update was
 *   never HOT (its status is in the pending index's condition), so this costs one more index
 *   entry per delivery, written by the worker, not on the provider's answer.
 * - `screen_pop_cards_updated_idx`: the cards by age; a call's pops go with its card, found by
 *   the pops' (call, agent) key.
 * - Pops stored before migration 14 carry their card themselves: each such call gets its card
 *   row (the latest pop's), so that every pop has one to be purged with. A process older than
 *   migration 14 still running during the deploy could store more such pops: the migration that
 *   drops `screen_pops.payload` repeats this first.
 * - `call_events.inbox_id` stops being a foreign key: it stays the delivery the event came from
 *   while the inbox keeps it. Deleting a delivery would otherwise look for its events in a
 *   table with no index on that column (one scan of all call events per delivery), and every
 *   event written paid a lookup of its delivery.
 * The indexes are built by one scan of their tables; writes to the inbox wait meanwhile (the
 * providers retry what gets a 503), so a large installation runs it in a quiet hour.
 */
export class Retention1764000000015 implements MigrationInterface {
  name = "Retention1764000000015";

  async up(q: QueryRunner): Promise<void> {
    // The inbox index last: its build holds off the inbox's writes (the webhooks' intake) until
    // this migration commits, so nothing slow comes after it.
    await q.query(`
      INSERT INTO screen_pop_cards (call_id, payload, updated_at)
      SELECT DISTINCT ON (call_id) call_id, payload, created_at FROM screen_pops WHERE payload IS NOT NULL
      ORDER BY call_id, created_at DESC
      ON CONFLICT (call_id) DO NOTHING`);
    await q.query(`CREATE INDEX screen_pop_cards_updated_idx ON screen_pop_cards (updated_at)`);
    await q.query(`ALTER TABLE call_events DROP CONSTRAINT call_events_inbox_id_fkey`);
    await q.query(`CREATE INDEX inbox_settled_idx ON inbox (received_at) WHERE status IN ('done', 'ignored')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE call_events e SET inbox_id = NULL WHERE inbox_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.id = e.inbox_id)`);
    await q.query(`ALTER TABLE call_events ADD CONSTRAINT call_events_inbox_id_fkey FOREIGN KEY (inbox_id) REFERENCES inbox(id) ON DELETE SET NULL`);
    await q.query(`DROP INDEX screen_pop_cards_updated_idx`);
    await q.query(`DROP INDEX inbox_settled_idx`);
  }
}
