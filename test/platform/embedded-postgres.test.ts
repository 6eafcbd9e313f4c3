import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import "reflect-metadata";
import { DataSource } from "typeorm";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../src/platform/db/embedded-postgres";
import { createLogger } from "../../src/platform/logger";

/**
 * Embedded mode runs a real PostgreSQL, so concurrent transactions are isolated exactly as in
 * production. This file always uses its own embedded server, whatever the run's database is.
 */
const log = createLogger("silent");
let dir: string;
let pg: EmbeddedPostgres;
let ds: DataSource;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "crm-embedded-"));
  pg = await startEmbeddedPostgres({ dataDir: dir, log, fsync: false });
  ds = await new DataSource({ type: "postgres", url: pg.url, poolSize: 20 }).initialize();
  await ds.query(`CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)`);
  await ds.query(`CREATE TABLE phones (e164 text PRIMARY KEY, owner text NOT NULL)`);
  await ds.query(`INSERT INTO counter VALUES (1, 0)`);
}, 60_000);

afterAll(async () => {
  await ds?.destroy();
  await pg?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("embedded PostgreSQL", () => {
  it("isolates 50 concurrent read-modify-write transactions: no lost update", async () => {
    await Promise.all(
      Array.from({ length: 50 }, () =>
        ds.transaction(async (em) => {
          const [row] = await em.query(`SELECT n FROM counter WHERE id = 1 FOR UPDATE`);
          await new Promise((r) => setImmediate(r));
          await em.query(`UPDATE counter SET n = $1 WHERE id = 1`, [row.n + 1]);
        }),
      ),
    );
    expect((await ds.query(`SELECT n FROM counter WHERE id = 1`))[0].n).toBe(50);
  });

  it("does not keep a rolled-back transaction's write, even with others running alongside", async () => {
    const before = (await ds.query(`SELECT n FROM counter WHERE id = 1`))[0].n;
    const results = await Promise.allSettled([
      ds.transaction(async (em) => {
        await em.query(`UPDATE counter SET n = n + 1000 WHERE id = 1`);
        throw new Error("roll back");
      }),
      ...Array.from({ length: 5 }, () => ds.transaction((em) => em.query(`UPDATE counter SET n = n + 1 WHERE id = 1`))),
    ]);
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
    expect((await ds.query(`SELECT n FROM counter WHERE id = 1`))[0].n).toBe(before + 5);
  });

  it("lets exactly one of 20 concurrent inserts of one key win", async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        ds.query(`INSERT INTO phones VALUES ('+15551230000', $1) ON CONFLICT (e164) DO NOTHING RETURNING owner`, [`t${i}`]),
      ),
    );
    expect(outcomes.filter((rows) => rows.length === 1)).toHaveLength(1);
    expect(await ds.query(`SELECT count(*)::int AS n FROM phones`)).toEqual([{ n: 1 }]);
  });

  it("refuses a second owner of the same DATA_DIR while the first is alive", async () => {
    fs.writeFileSync(path.join(dir, "service.pid"), String(process.ppid));
    await expect(startEmbeddedPostgres({ dataDir: dir, log })).rejects.toThrow(/in use by process/);
    fs.writeFileSync(path.join(dir, "service.pid"), String(process.pid));
  });

  it("keeps data across a restart", async () => {
    await ds.destroy();
    await pg.stop();
    pg = await startEmbeddedPostgres({ dataDir: dir, log, fsync: false });
    ds = await new DataSource({ type: "postgres", url: pg.url }).initialize();
    expect(await ds.query(`SELECT count(*)::int AS n FROM phones`)).toEqual([{ n: 1 }]);
  }, 30_000);
});
