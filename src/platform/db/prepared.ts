import { Client } from "pg";

/** Statement text → its name on every connection. */
const names = new Map<string, string>();

/**
 * Marks a hot-path statement to be prepared once per connection and then only executed: the
 * ingest runs the same statements thousands of times a second, and PostgreSQL's planning of
 * them (tables with many indexes) was a third of its CPU. Only for statements whose plan does
 * not depend on their values (lookups by a unique key, single-row writes): a prepared statement
 * may be given a generic plan, blind to the values, and one that looks for a value that is
 * rare or absent in a skewed column would then scan. Returns the text unchanged, to pass to
 * `query` as usual.
 */
export function prepared(name: string, text: string): string {
  // PostgreSQL cuts names at 63 bytes: two long names could meet.
  if (name.length + 4 > 63) throw new Error(`statement name too long: ${name}`);
  const existing = names.get(text);
  if (existing && existing !== `hot_${name}`) throw new Error(`statement registered twice: ${existing}, ${name}`);
  names.set(text, `hot_${name}`);
  return text;
}

/** The name a statement text was registered under (without the connection's prefix), if any. */
export const preparedName = (text: string): string | undefined => names.get(text)?.slice("hot_".length);

/** A pg client that runs registered statements as named (prepared) ones; everything else as before. */
export class PreparingClient extends Client {
  // pg's overloads cannot be re-declared usefully: the arguments are passed on as they came.
  override query(...args: unknown[]): never {
    const [text, values, callback] = args;
    const name = typeof text === "string" && Array.isArray(values) && callback === undefined ? names.get(text) : undefined;
    const query = super.query as (...a: unknown[]) => never;
    return name ? query.call(this, { name, text, values }) : query.apply(this, args);
  }
}
