import fs from "node:fs";
import { adminQuery } from "./pg-admin";

export default async function globalTeardown(): Promise<void> {
  const adminUrl = process.env.TEST_PG_ADMIN_URL;
  const template = process.env.TEST_PG_TEMPLATE;
  if (adminUrl && template) await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${template}`).catch(() => undefined);
  const embedded = globalThis.__EMBEDDED_PG__;
  if (embedded) {
    await embedded.pg.stop();
    fs.rmSync(embedded.dir, { recursive: true, force: true });
  }
}
