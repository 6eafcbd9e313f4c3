/**
 * A read of one component's that rides in another component's statement: one round trip instead
 * of two, in the same snapshot. Its SQL answers at most one row and numbers its parameters from
 * $1; the host statement renumbers them after its own (`shiftParams`) and answers the row as JSON.
 * The host names the combined statement after both, so each pair is prepared once.
 */
export interface Rider {
  name: string;
  sql: string;
  params: unknown[];
}

/** `$1` becomes `$(1 + by)`, and so on: the statement's own parameters come first. */
export const shiftParams = (sql: string, by: number): string => sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + by}`);
