import { DataSource, type DataSourceOptions } from "typeorm";
import type { Logger } from "../logger";

// Any constant works; it only has to be the same in every process of this service.
const MIGRATION_LOCK_KEY = 748_213_901;

/**
 * Applies pending migrations under a PostgreSQL advisory lock, so web and worker processes
 * starting together never run the same migration twice. They run on a connection of their own
 * without the pool's statement timeout, which is there for requests: building an index or
 * filling a table of a large installation takes longer.
 */
export async function migrate(ds: DataSource, log: Logger): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  const options = ds.options as DataSourceOptions & { extra?: Record<string, unknown> };
  // No entities: migrations are plain SQL, and start-up need not build the metadata twice.
  const migrationSource = new DataSource({ ...options, entities: [], poolSize: 1, extra: { ...options.extra, statement_timeout: 0 } } as DataSourceOptions);
  try {
    await runner.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    await migrationSource.initialize();
    const applied = await migrationSource.runMigrations({ transaction: "each" });
    if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, "migrations applied");
    return applied.map((m) => m.name);
  } finally {
    if (migrationSource.isInitialized) await migrationSource.destroy();
    await runner.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}
