/**
 * A condition that makes the statement's transaction commit without waiting for its WAL to
 * reach the disk (`SET LOCAL synchronous_commit = off`, decision 0013), written into a statement
 * the transaction runs anyway: no round trip of its own. For work that can be done again from
 * what is durable: applying an inbox row (the row, committed synchronously before the provider
 * got its answer, goes back to pending if its application is lost in a crash of PostgreSQL),
 * dispatching the outbox (the rows go back to pending with their pops), marking pops acked.
 * `set_config` is volatile, so it runs in the scan, once per row the statement finds; a
 * statement that finds no row has nothing to commit.
 */
export const COMMIT_WITHOUT_FLUSH_WAIT = "set_config('synchronous_commit', 'off', true) IS NOT NULL";
