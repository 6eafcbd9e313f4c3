import { adminQuery, uniqueName, withDatabase } from "./pg-admin";

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

function admin(): { adminUrl: string; template: string } {
  const adminUrl = process.env.TEST_PG_ADMIN_URL;
  const template = process.env.TEST_PG_TEMPLATE;
  if (!adminUrl || !template) throw new Error("test database server not set up (jest globalSetup)");
  return { adminUrl, template };
}

/** A migrated database of this test file's own (a copy of the run's template). */
export async function createTestDatabase(opts: { empty?: boolean } = {}): Promise<TestDatabase> {
  const { adminUrl, template } = admin();
  const name = uniqueName("crm_t");
  await adminQuery(adminUrl, opts.empty ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${template}`);
  return {
    name,
    url: withDatabase(adminUrl, name),
    drop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
