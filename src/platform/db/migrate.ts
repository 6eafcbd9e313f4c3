import type { DataSource } from "typeorm";
import type { Logger } from "../logger";

// Any constant works; it only has to be the same in every process of this service.
const MIGRATION_LOCK_KEY = 748_213_901;

/**
 * Applies pending migrations under a PostgreSQL advisory lock, so web and worker processes
 * starting together never run the same migration twice.
 */
export async function migrate(ds: DataSource, log: Logger): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    const applied = await ds.runMigrations({ transaction: "each" });
    if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, "migrations applied");
    return applied.map((m) => m.name);
  } finally {
    await runner.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}
