import type { EntityManager } from "typeorm";
import { prepared } from "./prepared";

/**
 * Runs an UPDATE/DELETE … RETURNING and gives back its rows. TypeORM's raw query() answers
 * [rows, rowCount] for UPDATE and DELETE but plain rows for SELECT and INSERT.
 */
export async function returningRows<T>(em: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const result = await em.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === "number") return result[0] as T[];
  return result as T[];
}

/** A unique constraint refused the write (PostgreSQL 23505): the caller says which conflict it was. */
export const isUniqueViolation = (err: unknown): boolean => (err as { code?: string } | undefined)?.code === "23505";

/**
 * A scalar subquery that takes the transaction-scoped advisory locks named by the text array
 * `param`, in the array's order, and yields their count: placed in a statement's FROM, it holds
 * them before the statement's own writes (one round trip instead of two).
 */
export const advisoryLocksSql = (param: string): string =>
  `(SELECT count(*) FROM (SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(${param}::text[]) AS k) AS l)`;

/** Takes the transaction-scoped advisory locks named by `keys`, in the array's order (prepared: one generic plan for any keys). */
const TAKE_ADVISORY_LOCKS = prepared("advisory_locks", `SELECT ${advisoryLocksSql("$1")}`);
export const takeAdvisoryLocks = (em: Pick<EntityManager, "query">, keys: string[]): Promise<unknown> => em.query(TAKE_ADVISORY_LOCKS, [keys]);

/**
 * The uuids of a JSON array parameter, as a subquery for `= ANY(ARRAY(...))` (an `IN (...)` of
 * it is planned as a hash join, which scans a small table whole). A list of ids given as
 * `uuid[]` can keep a prepared statement from ever getting its generic plan (decision 0010).
 */
export const uuidsOfJsonArray = (param: string): string => `SELECT value::uuid FROM jsonb_array_elements_text(${param}::jsonb)`;
