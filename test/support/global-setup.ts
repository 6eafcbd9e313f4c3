import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import "reflect-metadata";
import { DataSource } from "typeorm";
import { migrations } from "../../migrations";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../src/platform/db/embedded-postgres";
import { createLogger } from "../../src/platform/logger";
import { adminQuery, uniqueName, withDatabase } from "./pg-admin";

declare global {
  var __EMBEDDED_PG__: { pg: EmbeddedPostgres; dir: string } | undefined;
}

/**
 * One PostgreSQL for the run: the machine's (DATABASE_URL) or an embedded one. A template
 * database is migrated once; each test file then gets its own copy (CREATE DATABASE … TEMPLATE),
 * so parallel workers never share rows and every run starts clean.
 */
export default async function globalSetup(): Promise<void> {
  // The console tests load the built console; building takes a second and only when stale.
  execFileSync(process.execPath, [path.join(__dirname, "../../scripts/build-if-stale.js"), "--console"], { stdio: "inherit" });
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "crm-test-pg-"));
    const pg = await startEmbeddedPostgres({ dataDir: dir, log: createLogger("warn"), fsync: false });
    globalThis.__EMBEDDED_PG__ = { pg, dir };
    adminUrl = pg.url;
  }
  const template = uniqueName("crm_tmpl");
  await adminQuery(adminUrl, `CREATE DATABASE ${template}`);
  const ds = new DataSource({ type: "postgres", url: withDatabase(adminUrl, template), migrations });
  await ds.initialize();
  await ds.runMigrations({ transaction: "each" });
  await ds.destroy();

  process.env.TEST_PG_ADMIN_URL = adminUrl;
  process.env.TEST_PG_TEMPLATE = template;
}
