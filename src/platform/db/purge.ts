import type { EntityManager } from "typeorm";

/** One purge statement: deletes at most `limit` rows older than `before`, answers how many it deleted. */
export type PurgeChunk = (before: Date, limit: number) => Promise<number>;

/**
 * A purge statement from its CTEs (what follows WITH): they delete with `$1` the time before
 * which rows go and `$2` the most to delete, and one of them, `gone`, returns a row per row
 * purged. One statement, so that whatever goes together goes atomically.
 */
export const purgeStatement =
  (db: Pick<EntityManager, "query">, ctes: string): PurgeChunk =>
  async (before, limit) => {
    const [row] = await db.query(`WITH ${ctes} SELECT count(*)::int AS n FROM gone`, [before, limit]);
    return (row as { n: number }).n;
  };

export interface PurgeBudget {
  /** Rows per statement: each is its own short transaction, so no lock is held for long. */
  chunk: number;
  /** Stops when this is spent; what is left waits for the next run. */
  ms: number;
}

/** Enough to keep up with a busy day in a few runs; small enough to stay a quick statement. */
export const DEFAULT_PURGE_BUDGET: PurgeBudget = { chunk: 2000, ms: 20_000 };

/**
 * Runs a purge statement until a chunk comes back short (nothing older is left) or the budget is
 * spent. Answers the rows deleted.
 */
export async function purgeInChunks(purge: PurgeChunk, before: Date, budget: PurgeBudget = DEFAULT_PURGE_BUDGET): Promise<number> {
  const deadline = Date.now() + budget.ms;
  let deleted = 0;
  for (;;) {
    const n = await purge(before, budget.chunk);
    deleted += n;
    if (n < budget.chunk || Date.now() >= deadline) return deleted;
  }
}
