import { buildContainer } from "./container";
import { loadConfig } from "./platform/config";
import { migrate } from "./platform/db/migrate";
import { createLogger } from "./platform/logger";
import { resolveRuntime } from "./service";

/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
async function run(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const { config: resolved, embedded } = await resolveRuntime({ ...config, redisUrl: undefined }, log);
  const c = await buildContainer(resolved, log);
  try {
    const applied = await migrate(c.ds, log);
    console.log(applied.length ? `applied: ${applied.join(", ")}` : "database is up to date");
  } finally {
    await c.close();
    await embedded?.stop();
  }
}

run().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
