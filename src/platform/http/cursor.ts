import { AppError } from "../errors";

/**
 * Keyset pagination: the cursor is the (timestamp, id) of the last item seen (a uuid, or a
 * bigint for append-only logs), opaque to clients. Stable under inserts, unlike offsets.
 */
export interface CursorPosition {
  at: string;
  id: string;
}

export function encodeCursor(p: CursorPosition): string {
  return Buffer.from(JSON.stringify([p.at, p.id])).toString("base64url");
}

export function decodeCursor(cursor: string | undefined): CursorPosition | undefined {
  if (!cursor) return undefined;
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [unknown, unknown];
    if (typeof at === "string" && !Number.isNaN(Date.parse(at)) && typeof id === "string" && /^([0-9a-f-]{36}|\d{1,19})$/.test(id)) return { at, id };
  } catch {
    // fall through
  }
  throw new AppError("validation_failed", "cursor: not a cursor returned by this API");
}
