import "reflect-metadata";
import { Socket } from "node:net";
import type { DataSource } from "typeorm";
import { allEntities } from "../../src/container";
import { createDataSource } from "../../src/platform/db/data-source";
import { createTestDatabase, type TestDatabase } from "../support/test-db";
import { waitFor } from "../support/wait-for";

let db: TestDatabase;
let ds: DataSource;

beforeAll(async () => {
  db = await createTestDatabase();
  ds = await createDataSource(db.url, allEntities, { poolSize: 1 }).initialize();
});
afterAll(async () => {
  jest.useRealTimers();
  await ds?.destroy();
  await db?.drop();
});

const backend = async (): Promise<number> => (await ds.query(`SELECT pg_backend_pid() AS pid`))[0].pid;
/** The pg pool under TypeORM: how many connections it holds. */
const connectionsHeld = () => (ds.driver as unknown as { master: { totalCount: number } }).master.totalCount;

describe("the connection pool", () => {
  // A burst of calls after a quiet spell used to open new connections: cold backends that
  // planned every hot statement again (docs/performance.md, 2026-12-03).
  it("keeps an idle connection past pg's default 10 s, and closes it after five minutes", async () => {
    const first = await backend();
    // Fake timers from here: the pool's idle timer is set when the next query gives the connection back.
    jest.useFakeTimers({ doNotFake: ["nextTick", "setImmediate", "queueMicrotask"] });
    expect(await backend()).toBe(first);
    jest.advanceTimersByTime(60_000);
    expect(connectionsHeld()).toBe(1);
    expect(await backend()).toBe(first);
    jest.advanceTimersByTime(300_001);
    jest.useRealTimers();
    // The pool ends the idle connection: the next query gets a new backend.
    await waitFor(() => connectionsHeld() === 0, { timeoutMs: 5000, what: "the idle connection closed" });
    expect(connectionsHeld()).toBe(0);
    expect(await backend()).not.toBe(first);
  });

  it("asks for no JIT compilation, which cost the month's reports more than it saved", async () => {
    expect(await ds.query(`SHOW jit`)).toEqual([{ jit: "off" }]);
  });

  it("turns on TCP keepalives for its connections, so that one kept idle is not dropped unseen", async () => {
    const keepAlive = jest.spyOn(Socket.prototype, "setKeepAlive");
    const other = await createDataSource(db.url, allEntities, { poolSize: 1 }).initialize();
    try {
      await other.query(`SELECT 1`);
      expect(keepAlive).toHaveBeenCalledWith(true, 60_000);
    } finally {
      keepAlive.mockRestore();
      await other.destroy();
    }
  });
});
