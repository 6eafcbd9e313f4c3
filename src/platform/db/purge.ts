import type { EntityManager } from "typeorm";

/** What one purge statement did: rows deleted, and whether older rows may be left. */
export interface PurgeStep {
  deleted: number;
  more: boolean;
}

/** One purge statement: deletes up to `limit` rows older than `before`. */
export type PurgeChunk = (before: Date, limit: number) => Promise<PurgeStep>;

/**
 * A purge statement from its CTEs (what follows WITH): they delete with `$1` the time before
 * which rows go and `$2` the most to delete, and one of them, `gone`, returns a row per row
 * purged. One statement, so that whatever goes together goes atomically. A full chunk means
 * there may be more.
 */
export const purgeStatement =
  (db: Pick<EntityManager, "query">, ctes: string): PurgeChunk =>
  async (before, limit) => {
    const [row] = await db.query(`WITH ${ctes} SELECT count(*)::int AS n FROM gone`, [before, limit]);
    const deleted = (row as { n: number }).n;
    return { deleted, more: deleted === limit };
  };

export interface PurgeBudget {
  /** Rows per statement: each is its own short transaction, so no lock is held for long. */
  chunk: number;
  /** No new statement starts once this is spent; what is left waits for the next run. */
  ms: number;
}

/** Enough to keep up with a busy day in a few runs; small enough to stay a quick statement. */
export const DEFAULT_PURGE_BUDGET: PurgeBudget = { chunk: 2000, ms: 20_000 };

/** Runs a purge statement until nothing older is left or the budget is spent. Answers the rows deleted. */
export async function purgeInChunks(purge: PurgeChunk, before: Date, budget: PurgeBudget = DEFAULT_PURGE_BUDGET): Promise<number> {
  const deadline = Date.now() + budget.ms;
  let deleted = 0;
  for (;;) {
    const step = await purge(before, budget.chunk);
    deleted += step.deleted;
    if (!step.more || Date.now() >= deadline) return deleted;
  }
}
