import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Indexes that every call paid for and no query used:
 * - screen_pops_user_open_idx (user, created_at of pending and sent pops): written for every pop
 *   (ten a call), read by nothing (a reconnecting agent's pops are found from the calls still
 *   ringing). Its condition on `status` also kept the ack's and the dismissal's updates from
 *   being HOT: each wrote the row's index entries again.
 * - audit_log_at_idx, a btree on `at`: written for every audit entry (four for a new caller's
 *   call). The history reads by entity; a look over a time range (an operator's) is served as
 *   well by a BRIN index, as the log is appended in time order, at next to no cost per entry.
 * - inbox_status_idx (status, received_at): written when a delivery arrives and again when it
 *   is applied. The backlog has its own partial index; what an operator looks for by status is
 *   the failed deliveries, now a partial index of those only.
 * Both new indexes are built by one scan of their table that writes little (seconds for
 * millions of rows); writes to audit_log and inbox wait meanwhile, so a large installation
 * runs it in a quiet hour.
 */
export class LeanerHotPathIndexes1764000000013 implements MigrationInterface {
  name = "LeanerHotPathIndexes1764000000013";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX screen_pops_user_open_idx`);
    await q.query(`DROP INDEX audit_log_at_idx`);
    await q.query(`CREATE INDEX audit_log_at_brin ON audit_log USING brin (at)`);
    await q.query(`DROP INDEX inbox_status_idx`);
    await q.query(`CREATE INDEX inbox_failed_idx ON inbox (received_at) WHERE status = 'failed'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX inbox_failed_idx`);
    await q.query(`CREATE INDEX inbox_status_idx ON inbox (status, received_at)`);
    await q.query(`DROP INDEX audit_log_at_brin`);
    await q.query(`CREATE INDEX audit_log_at_idx ON audit_log (at)`);
    await q.query(`CREATE INDEX screen_pops_user_open_idx ON screen_pops (user_id, created_at) WHERE status IN ('pending','sent')`);
  }
}
