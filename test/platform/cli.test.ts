import "reflect-metadata";
import { Client } from "pg";
import { describeCliError, runCli } from "../../src/cli";
import { createTestDatabase, type TestDatabase } from "../support/test-db";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ empty: true });
});
afterAll(async () => db?.drop());

const env = () => ({ DATABASE_URL: db.url, JWT_SECRET: "cli-test-secret-0123456789abcdef0123", LOG_LEVEL: "silent" });

async function rows(sql: string): Promise<unknown[]> {
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

describe("npm run cli -- user:create", () => {
  it("works on an empty database: applies migrations, then creates the user", async () => {
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    const code = await runCli(
      ["user:create", "--email", "Admin@Example.test", "--password", "first admin pw", "--role", "admin", "--name", "First Admin", "--dial-target", "client:admin"],
      env(),
    );
    expect(code).toBe(0);
    expect(JSON.parse(String(log.mock.calls[0]?.[0]))).toMatchObject({ email: "admin@example.test", role: "admin", dialTarget: "client:admin" });
    log.mockRestore();
    expect(await rows(`SELECT email, role, name, dial_target FROM users`)).toEqual([
      { email: "admin@example.test", role: "admin", name: "First Admin", dial_target: "client:admin" },
    ]);
    expect(await rows(`SELECT actor_type, actor_id, action FROM audit_log WHERE entity = 'user'`)).toEqual([
      { actor_type: "system", actor_id: "cli", action: "create" },
    ]);
  });

  it("refuses a bad role with a message naming the option, and creates nothing", async () => {
    const err = await runCli(["user:create", "--email", "x@example.test", "--password", "long enough pw", "--role", "root"], env()).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(describeCliError(err as Error)).toMatch(/^--role: /);
    expect(await rows(`SELECT 1 FROM users WHERE email = 'x@example.test'`)).toEqual([]);
  });

  it("answers usage for an unknown command", async () => {
    const error = jest.spyOn(console, "error").mockImplementation(() => undefined);
    expect(await runCli(["user:delete"], env())).toBe(64);
    error.mockRestore();
  });
});
