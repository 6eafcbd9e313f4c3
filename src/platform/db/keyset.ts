import { z } from "zod";
import { decodeCursor, encodeCursor } from "../http/cursor";

/** `cursor` and `limit` query fields shared by every list route. */
export const pageFields = (defaultLimit = 25) => ({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(defaultLimit),
});

/** Microsecond text of a timestamp column: a millisecond cursor would skip rows within the same millisecond. */
export const cursorAt = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * Builds the WHERE clause and parameters of a keyset-paginated list: filters, the position after
 * the cursor, and a LIMIT one larger than the page (to know whether another page exists).
 */
export class KeysetQuery {
  private readonly conditions: string[] = ["TRUE"];
  readonly params: unknown[] = [];

  /** A parameter placeholder for `value`. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  /** A condition; each `?` in it becomes the placeholder of `value`. */
  where(sql: string, value?: unknown): this {
    this.conditions.push(value === undefined ? sql : sql.replaceAll("?", this.param(value)));
    return this;
  }

  /** Rows after the cursor in (at, id) order; `<` for newest first, `>` for oldest first. */
  after(cursor: string | undefined, at: string, id: string, op: "<" | ">", idType: "uuid" | "bigint" = "uuid"): this {
    const pos = decodeCursor(cursor);
    if (pos) this.conditions.push(`(${at}, ${id}) ${op} (${this.param(pos.at)}::timestamptz, ${this.param(pos.id)}::${idType})`);
    return this;
  }

  get whereSql(): string {
    return this.conditions.join(" AND ");
  }

  limitSql(limit: number): string {
    return this.param(limit + 1);
  }
}

/** The page and the cursor of its last row (rows must select `id` and `cursor_at`). */
export function toPage<R extends { id: string; cursor_at: string }, T>(rows: R[], limit: number, map: (r: R) => T): { items: T[]; nextCursor: string | null } {
  const last = rows[limit - 1];
  return { items: rows.slice(0, limit).map(map), nextCursor: rows.length > limit && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null };
}
