import type { EntityManager } from "typeorm";
import { createHash } from "node:crypto";
import { prepared, preparedName } from "./prepared";
import { shiftParams } from "./rider";

/** An append-only table whose rows may wait for the end of their transaction. */
export interface DeferredTable {
  table: string;
  columns: Array<{ name: string; type: string }>;
  /** e.g. `ON CONFLICT (dedupe_key) DO NOTHING` */
  onConflict: string;
  /** The single-row insert, for a row written at once. */
  insertOne: string;
}

/** Declares an append-only table: its columns (name → PostgreSQL type) in the order rows give them. */
export function appendOnlyTable(table: string, columns: Record<string, string>, onConflict = ""): DeferredTable {
  const names = Object.keys(columns);
  const values = names.map((_, i) => `$${i + 1}`).join(", ");
  return {
    table,
    columns: names.map((name) => ({ name, type: columns[name]! })),
    onConflict,
    insertOne: prepared(`append.${table}`, `INSERT INTO ${table} (${names.join(", ")}) VALUES (${values}) ${onConflict}`.trim()),
  };
}

/** Appends a row: with the transaction's deferred writes when they are open, else at once. */
export async function appendRow(em: EntityManager, table: DeferredTable, row: unknown[]): Promise<void> {
  const deferred = DeferredWrites.of(em);
  if (deferred) deferred.add(table, row);
  else await em.query(table.insertOne, row);
}

/**
 * Runs a write at once, or with `withClosingStatement` as a step of the transaction's closing
 * statement when deferred writes are open on `em` (DeferredWrites.later says what the caller
 * vouches for then).
 */
export async function write(em: EntityManager, statement: Statement, opts: { withClosingStatement?: boolean } = {}): Promise<void> {
  if (opts.withClosingStatement && DeferredWrites.later(em, statement)) return;
  await em.query(statement.sql, statement.params);
}

/**
 * A write run with the gathered rows: the one that ends the work, or one that waits for it.
 * When all of them are prepared (see prepared()), the combined statement is prepared too.
 */
export interface Statement {
  /** An UPDATE, INSERT or DELETE; its own parameters are numbered from $1. */
  sql: string;
  params: unknown[];
}

const active = new WeakMap<EntityManager, DeferredWrites>();

/**
 * Rows that a transaction's work appends to append-only tables (the audit log, the outbox),
 * gathered while it runs and written in one statement when it is done, together with the
 * statement that ends the work (inbox rows marked done). A delivery's many audit entries and
 * pushes cost one round trip instead of one each; the rows still commit with the change they
 * describe, in the order they were added. A reader of such a table inside the work (deliveries
 * applied together share one batch) looks at `waiting` too.
 */
export class DeferredWrites {
  private readonly pending = new Map<DeferredTable, unknown[][]>();
  /** Statements that may run with the closing one (`later`), in the order they were added. */
  private readonly statements: Statement[] = [];

  /** The writes gathered for this transaction's manager, if a batch is open on it. */
  static of(em: EntityManager): DeferredWrites | undefined {
    return active.get(em);
  }

  /**
   * Runs `work` with writes deferred on `em`; when it succeeds, writes them in one statement
   * with `finish(result)`'s statement, if any. A batch already open on `em` is joined.
   */
  static async around<T>(em: EntityManager, work: () => Promise<T>, finish?: (result: T) => Statement | undefined): Promise<T> {
    if (active.has(em)) {
      const result = await work();
      const final = finish?.(result);
      if (final) await em.query(final.sql, final.params);
      return result;
    }
    const writes = new DeferredWrites();
    active.set(em, writes);
    let result: T;
    try {
      result = await work();
    } finally {
      active.delete(em);
    }
    await writes.flush(em, finish?.(result));
    return result;
  }

  /**
   * The rows of a table still waiting to be written. Readers inside the transaction that must see
   * them (deliveries applied together share one DeferredWrites) look here as well as in the table.
   */
  static waiting(em: EntityManager, table: DeferredTable): readonly unknown[][] {
    return active.get(em)?.pending.get(table) ?? [];
  }

  /**
   * A write that nothing else in the work reads back (the caller's judgement) runs with the
   * closing statement, as one of its steps, instead of on its own: a round trip less. Returns
   * false when no batch is open on `em`, and the caller runs it itself. A batch that applies
   * several deliveries runs them (`runWaitingStatements`) before the next delivery, which may read
   * what they write. Each such write must touch rows no other waiting one does: steps of one
   * statement all see the same snapshot, and two that change one row leave only one change.
   */
  static later(em: EntityManager, statement: Statement): boolean {
    const writes = active.get(em);
    writes?.statements.push(statement);
    return writes !== undefined;
  }

  /** Runs the statements `later` kept, each on its own, now. */
  static async runWaitingStatements(em: EntityManager): Promise<void> {
    const writes = active.get(em);
    // Their texts are prepared, or not, as their callers registered them.
    for (const s of writes?.statements.splice(0) ?? []) await em.query(s.sql, s.params);
  }

  add(table: DeferredTable, row: unknown[]): void {
    const rows = this.pending.get(table) ?? [];
    rows.push(row);
    this.pending.set(table, rows);
  }

  private async flush(em: EntityManager, final: Statement | undefined): Promise<void> {
    if (this.pending.size === 0 && this.statements.length === 0) {
      if (final) await em.query(final.sql, final.params);
      return;
    }
    const params: unknown[] = final ? [...final.params] : [];
    // Tables in a fixed order, so each combination is one statement text (prepared when it may be).
    const tables = [...this.pending].sort(([a], [b]) => a.table.localeCompare(b.table));
    const ctes = tables.map(([t, rows], i) => {
      const arrays = t.columns.map((c, col) => {
        params.push(rows.map((r) => r[col] ?? null));
        return `$${params.length}::${c.type}[]`;
      });
      const names = t.columns.map((c) => c.name).join(", ");
      // WITH ORDINALITY + ORDER BY: rows get their ids in the order they were added.
      return `w${i} AS (INSERT INTO ${t.table} (${names})
        SELECT ${names} FROM unnest(${arrays.join(", ")}) WITH ORDINALITY AS t(${names}, ord) ORDER BY ord ${t.onConflict})`;
    });
    const statements = this.statements.splice(0);
    for (const [i, s] of statements.entries()) {
      ctes.push(`s${i} AS (${shiftParams(s.sql, params.length)})`);
      params.push(...s.params);
    }
    this.pending.clear();
    const sql = `WITH ${ctes.join(",\n")}\n${final?.sql ?? "SELECT 1"}`;
    // Prepared when every part is (a final statement first): under the parts' names.
    const names = [final, ...statements].map((s) => s && preparedName(s.sql));
    const named = names.every((n) => n !== undefined);
    await em.query(named ? prepared(combinedName([names[0]!, ...tables.map(([t]) => t.table), ...names.slice(1)]), sql) : sql, params);
  }
}

/** The parts' names joined, cut to PostgreSQL's 63 bytes (with the prefix) and told apart by a digest when longer. */
function combinedName(parts: string[]): string {
  const full = parts.join("+");
  return full.length <= 59 ? full : `${full.slice(0, 45)}~${createHash("sha256").update(full).digest("hex").slice(0, 12)}`;
}
