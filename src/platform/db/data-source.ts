import { DataSource, type EntitySchema, type MixedList } from "typeorm";
import { migrations } from "../../../migrations";
import { Client } from "pg";
import { PreparingClient } from "./prepared";
import type { Logger } from "../logger";

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type EntityList = MixedList<Function | string | EntitySchema>;

export function createDataSource(url: string, entities: EntityList, opts: { poolSize?: number; applicationName?: string; preparedStatements?: boolean } = {}): DataSource {
  return new DataSource({
    type: "postgres",
    url,
    entities,
    migrations,
    synchronize: false,
    migrationsRun: false,
    migrationsTransactionMode: "each",
    poolSize: opts.poolSize ?? 10,
    applicationName: opts.applicationName ?? "callcenter-crm",
    extra: {
      // Hot statements are prepared per connection, unless a pooler in between cannot keep them
      // (PgBouncer in transaction mode before 1.21): DB_PREPARED_STATEMENTS=false.
      Client: opts.preparedStatements === false ? Client : PreparingClient,
      // With pg's default, a connection idle for 10 s was closed, and a burst of calls then
      // opened new ones: cold backends that planned every hot statement again (the first
      // seconds of a burst, docs/performance.md). Kept five minutes, the pool stays warm.
      idleTimeoutMillis: 300_000,
      // An idle connection kept that long must not be dropped unseen by a NAT or load balancer
      // in between (AWS's forget after 350 s): TCP keepalives from its first idle minute.
      keepAlive: true,
      keepAliveInitialDelayMillis: 60_000,
      // Fail a query rather than hang a request when PostgreSQL stalls.
      connectionTimeoutMillis: 5000,
      statement_timeout: 15000,
      idle_in_transaction_session_timeout: 30000,
      // No JIT compilation: the service's statements are short, and the few that cross
      // jit_above_cost (the reports over a month of calls) spent ~90 ms of ~700 compiling
      // (docs/performance.md). Options given in DATABASE_URL replace this one.
      options: "-c jit=off",
    },
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A database that is still starting (compose, a restart) is normal at boot: retry with
 * exponential backoff, then give up with one clear error.
 */
export async function connectWithRetry(
  ds: DataSource,
  log: Logger,
  opts: { attempts?: number; baseDelayMs?: number } = {},
): Promise<DataSource> {
  const attempts = opts.attempts ?? 8;
  const base = opts.baseDelayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await ds.initialize();
    } catch (err) {
      if (attempt >= attempts) {
        throw new Error(`database unreachable after ${attempts} attempts: ${(err as Error).message}`, { cause: err });
      }
      const delay = Math.min(base * 2 ** (attempt - 1), 5000);
      log.warn({ attempt, delay, err: (err as Error).message }, "database not ready, retrying");
      await sleep(delay);
    }
  }
}

export async function pingDatabase(ds: DataSource, timeoutMs = 2000): Promise<boolean> {
  if (!ds.isInitialized) return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ds.query("SELECT 1"),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("timeout")), timeoutMs))),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
