import "reflect-metadata";
import { randomUUID } from "node:crypto";
import type { DataSource } from "typeorm";
import { allEntities } from "../../src/container";
import { createDataSource } from "../../src/platform/db/data-source";
import { DeferredWrites } from "../../src/platform/db/deferred-writes";
import { prepared } from "../../src/platform/db/prepared";
import { uuidsOfJsonArray } from "../../src/platform/db/sql";
import { addToOutbox } from "../../src/platform/outbox";
import { AuditService } from "../../src/crm/audit/audit.service";
import { NUMBER_AND_REPORT } from "../../src/tracking/attribution/call-attribution.service";
import { contactAndDealWith } from "../../src/crm/callers/caller-records.service";
import { CallsRepository } from "../../src/telephony/ingest/calls.repository";
import { CallContextService, screenPopCardsSql } from "../../src/crm/screen-pop/call-context.service";
import { MARK_ACKED, PopStore } from "../../src/realtime/pop-store";
import { INBOX_INSERT_BATCH } from "../../src/webhooks/inbox-writer";
import { InboxProcessor } from "../../src/webhooks/inbox-processor";
import { createLogger } from "../../src/platform/logger";
import { createTestDatabase, type TestDatabase } from "../support/test-db";

let db: TestDatabase;
let ds: DataSource;
let unprepared: DataSource;
const audit = new AuditService();

beforeAll(async () => {
  db = await createTestDatabase();
  ds = await createDataSource(db.url, allEntities, { poolSize: 2 }).initialize();
  unprepared = await createDataSource(db.url, allEntities, { poolSize: 2, preparedStatements: false }).initialize();
});
afterAll(async () => {
  await ds?.destroy();
  await unprepared?.destroy();
  await db?.drop();
});

const COUNT_CALLS = prepared("test.count_calls", `SELECT count(*)::int AS n FROM calls WHERE direction = $1`);
const preparedOnConnection = (em: { query: DataSource["query"] }) =>
  em.query(`SELECT name FROM pg_prepared_statements WHERE name LIKE 'hot_%' ORDER BY name`).then((rows: Array<{ name: string }>) => rows.map((r) => r.name));

describe("prepared hot-path statements", () => {
  it("a registered statement is prepared once on its connection and gives the same answers; others are not", async () => {
    await ds.transaction(async (em) => {
      expect(await em.query(COUNT_CALLS, ["inbound"])).toEqual([{ n: 0 }]);
      expect(await em.query(COUNT_CALLS, ["outbound"])).toEqual([{ n: 0 }]);
      await em.query(`SELECT count(*) FROM calls WHERE direction = $1`, ["inbound"]);
      expect(await preparedOnConnection(em)).toEqual(["hot_test.count_calls"]);
    });
  });

  it("DB_PREPARED_STATEMENTS=false prepares nothing", async () => {
    await unprepared.transaction(async (em) => {
      expect(await em.query(COUNT_CALLS, ["inbound"])).toEqual([{ n: 0 }]);
      expect(await preparedOnConnection(em)).toEqual([]);
    });
  });

  it("one text cannot be registered under two names", () => {
    expect(() => prepared("test.other_name", `SELECT count(*)::int AS n FROM calls WHERE direction = $1`)).toThrow(/registered twice/);
  });
});

/** The plan a prepared statement gets after its first executions: blind to the values. */
const genericPlan = (sql: string, args: string) =>
  ds.transaction(async (em) => {
    await em.query(`SET LOCAL plan_cache_mode = force_generic_plan`);
    await em.query(`PREPARE plan_under_test AS ${sql}`);
    const rows: Array<{ "QUERY PLAN": string }> = await em.query(`EXPLAIN EXECUTE plan_under_test(${args})`);
    await em.query(`DEALLOCATE plan_under_test`);
    return rows.map((r) => r["QUERY PLAN"]).join("\n");
  });

describe("plans that must not depend on the values", () => {
  it("a new call's tracker report is found through its partial indexes by one generic plan", async () => {
    await ds.query(
      `INSERT INTO tracking_provider_calls (provider, provider_call_id, telephony_call_id, caller, tracking_number, started_at, last_delivery_at)
       SELECT 'callrail', 'plan-' || i, CASE WHEN i % 2 = 0 THEN 'CAplan' || i END, '+1555' || lpad(i::text, 7, '0'), '+15005550100',
              now() - make_interval(mins => i), now()
       FROM generate_series(1, 3000) AS i`,
    );
    await ds.query(`ANALYZE tracking_provider_calls`);
    const plan = await genericPlan(NUMBER_AND_REPORT, `'CAplan10', '+15550000011', '+15005550100', now()`);
    expect(plan).toContain("Index Scan using tracking_provider_calls_telephony_idx");
    expect(plan).toContain("Index Scan using tracking_provider_calls_unmatched_idx");
    expect(plan).not.toContain("Seq Scan on tracking_provider_calls");

    // The same read riding in the contact's statement (its parameters after the contact's nine).
    const riding = contactAndDealWith({ name: "attribution.number_and_report", sql: NUMBER_AND_REPORT, params: [] });
    const contactArgs = `'Caller', '+15550000011', '(555) 000-0011', NULL, NULL, NULL, 'Call', gen_random_uuid(), now()`;
    const ridingPlan = await genericPlan(riding, `${contactArgs}, 'CAplan10', '+15550000011', '+15005550100', now()`);
    expect(ridingPlan).toContain("Index Scan using tracking_provider_calls_telephony_idx");
    expect(ridingPlan).toContain("Index Scan using tracking_provider_calls_unmatched_idx");
    expect(ridingPlan).not.toContain("Seq Scan on tracking_provider_calls");
  });

  it("a batch of deliveries finds its redeliveries by key, not by scanning the inbox, in a generic plan", async () => {
    await ds.query(
      `INSERT INTO inbox (source, delivery_key, payload) SELECT 'twilio.status', 'plan-' || i, '{}' FROM generate_series(1, 3000) AS i`,
    );
    await ds.query(`ANALYZE inbox`);
    const plan = await genericPlan(
      INBOX_INSERT_BATCH,
      `'[{"source":"twilio.status","key":"plan-7","payload":{}},{"source":"twilio.status","key":"plan-new","payload":{}}]'`,
    );
    expect(plan).toContain("Index Scan using inbox_delivery_key on inbox");
    expect(plan).not.toContain("Seq Scan on inbox");
  });

  // 20,000 pops is where an `IN (…)` of the ids stopped being a scan of the whole table.
  it("a burst of acks and the screen-pop cards find their rows by key, not by scanning, in a generic plan", async () => {
    await ds.query(`INSERT INTO users (email, name, role, password_hash) SELECT 'plan' || i || '@plan.test', 'Plan ' || i, 'agent', 'x' FROM generate_series(1, 10) AS i`);
    await ds.query(
      `INSERT INTO calls (provider, provider_call_id, direction, from_raw, to_raw, status, started_at)
       SELECT 'twilio', 'CAplanpop' || i, 'inbound', '+15550000000', '+15005550100', 'ringing', now() FROM generate_series(1, 1600) AS i`,
    );
    await ds.query(
      `INSERT INTO screen_pops (call_id, user_id, status, sent_at) SELECT c.id, u.id, 'sent', now()
       FROM calls c CROSS JOIN users u WHERE c.provider_call_id LIKE 'CAplanpop%' AND u.email LIKE '%@plan.test'`,
    );
    await ds.query(`ANALYZE screen_pops, calls`);
    const acks = await genericPlan(MARK_ACKED, `'["${randomUUID()}", "${randomUUID()}"]'`);
    expect(acks).toMatch(/Index Scan (using|on) screen_pops_pkey/);
    expect(acks).not.toContain("Seq Scan on screen_pops");
    const cards = await genericPlan(screenPopCardsSql(uuidsOfJsonArray("$1")), `'["${randomUUID()}"]'`);
    expect(cards).toMatch(/Index Scan (using|on) calls_pkey/);
    expect(cards).not.toContain("Seq Scan on calls c");
  });
});

describe("statements that take a list of ids keep their generic plan", () => {
  // One connection, so that its prepared statements are the ones looked at.
  let one: DataSource;
  beforeAll(async () => {
    one = await createDataSource(db.url, allEntities, { poolSize: 1 }).initialize();
  });
  afterAll(() => one?.destroy());

  const plansOf = async (name: string) => {
    const [row] = await one.query(`SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE name = $1`, [name]);
    return row as { generic: number; custom: number };
  };
  const ids = (n: number) => Array.from({ length: n }, () => randomUUID());

  // Given as uuid[], each run's custom plan, sized by the list, looked cheaper than the generic
  // one: PostgreSQL planned the statement again at every run (half of the cards' time).
  it("the screen-pop cards and the acks: planned five times, then never again", async () => {
    const cards = new CallContextService(one);
    const pops = new PopStore(one);
    for (let i = 1; i <= 10; i++) {
      expect((await cards.screenPops(ids(1 + (i % 4)))).size).toBe(0);
      for (const id of ids(1 + (i % 3))) pops.markAcked(id);
      await pops.flushAcks();
    }
    expect(await plansOf("hot_screen_pop.cards")).toEqual({ generic: 5, custom: 5 });
    expect(await plansOf("hot_screen_pops.ack")).toEqual({ generic: 5, custom: 5 });
  });
});

describe("deferred writes", () => {
  const outboxKeys = () => ds.query(`SELECT dedupe_key FROM outbox WHERE dedupe_key LIKE 'dw-%' ORDER BY id`).then((r: Array<{ dedupe_key: string }>) => r.map((x) => x.dedupe_key));
  const auditIds = (entity: string) => ds.query(`SELECT entity_id FROM audit_log WHERE entity = $1 ORDER BY id`, [entity]).then((r: Array<{ entity_id: string }>) => r.map((x) => x.entity_id));

  it("audit entries and outbox rows wait for the end of the work, then land in one statement with the final one, in order", async () => {
    const seen: unknown[] = [];
    await ds.transaction(async (em) => {
      await DeferredWrites.around(
        em,
        async () => {
          await addToOutbox(em, "task.assigned", { taskId: "t1", assigneeId: "u1" }, "dw-1");
          await audit.record(em, { actor: { type: "system", id: "test" }, action: "create", entity: "dw-test", entityId: "a" });
          await addToOutbox(em, "task.assigned", { taskId: "t2", assigneeId: "u1" }, "dw-2");
          await addToOutbox(em, "task.assigned", { taskId: "t1", assigneeId: "u1" }, "dw-1"); // a redelivery: deduped
          await audit.record(em, { actor: { type: "system" }, action: "update", entity: "dw-test", entityId: "b", after: { x: 1 } });
          seen.push(await em.query(`SELECT count(*)::int AS n FROM outbox WHERE dedupe_key LIKE 'dw-%'`));
          return "applied";
        },
        () => ({ sql: `INSERT INTO audit_log (actor_type, action, entity, entity_id) VALUES ('system', 'create', 'dw-final', $1)`, params: ["f"] }),
      );
    });
    expect(seen).toEqual([[{ n: 0 }]]); // nothing written while the work ran
    expect(await outboxKeys()).toEqual(["dw-1", "dw-2"]);
    expect(await auditIds("dw-test")).toEqual(["a", "b"]);
    expect(await auditIds("dw-final")).toEqual(["f"]);
    const [b] = await ds.query(`SELECT actor_id, after FROM audit_log WHERE entity = 'dw-test' AND entity_id = 'b'`);
    expect(b).toEqual({ actor_id: null, after: { x: 1 } });
  });

  it("work that fails writes nothing; outside deferred writes rows are written at once", async () => {
    await expect(
      ds.transaction(async (em) =>
        DeferredWrites.around(em, async () => {
          await addToOutbox(em, "task.assigned", { taskId: "t3", assigneeId: "u1" }, "dw-3");
          throw new Error("boom");
        }),
      ),
    ).rejects.toThrow("boom");
    expect(await outboxKeys()).not.toContain("dw-3");
    await ds.transaction(async (em) => {
      await addToOutbox(em, "task.assigned", { taskId: "t4", assigneeId: "u1" }, "dw-4");
      expect(await em.query(`SELECT count(*)::int AS n FROM outbox WHERE dedupe_key = 'dw-4'`)).toEqual([{ n: 1 }]);
    });
  });
});

describe("writes that wait for the closing statement (DeferredWrites.later)", () => {
  const SET_NAME = prepared("test.later_set_name", `UPDATE audit_log SET actor_id = $2 WHERE entity = 'later' AND entity_id = $1`);
  const LATER_FINAL = prepared("test.later_final", `UPDATE audit_log SET action = 'update' WHERE entity = 'later' AND entity_id = $1`);
  const actorOf = (em: { query: DataSource["query"] }, id: string) =>
    em.query(`SELECT actor_id FROM audit_log WHERE entity = 'later' AND entity_id = $1`, [id]).then((r: Array<{ actor_id: string | null }>) => r[0]?.actor_id);
  const seed = (ids: string[]) => ds.query(`INSERT INTO audit_log (actor_type, action, entity, entity_id) SELECT 'system', 'create', 'later', unnest($1::text[])`, [ids]);

  it("run as a step of the closing statement, prepared under the parts' names; without a batch, not kept", async () => {
    await seed(["l1", "l1-final"]);
    const seen: unknown[] = [];
    await ds.transaction(async (em) => {
      expect(DeferredWrites.later(em, { sql: SET_NAME, params: ["l1", "now"] })).toBe(false);
      await DeferredWrites.around(
        em,
        async () => {
          expect(DeferredWrites.later(em, { sql: SET_NAME, params: ["l1", "later"] })).toBe(true);
          await addToOutbox(em, "task.assigned", { taskId: "t9", assigneeId: "u1" }, "later-1");
          seen.push(await actorOf(em, "l1"));
        },
        () => ({ sql: LATER_FINAL, params: ["l1-final"] }),
      );
      expect(await preparedOnConnection(em)).toContain("hot_test.later_final+outbox+test.later_set_name");
    });
    expect(seen).toEqual([null]); // not written while the work ran
    expect(await actorOf(ds, "l1")).toBe("later");
    expect(await ds.query(`SELECT entity_id, action FROM audit_log WHERE entity = 'later' ORDER BY entity_id`)).toEqual([
      { entity_id: "l1", action: "create" },
      { entity_id: "l1-final", action: "update" },
    ]);
  });

  it("a batch of deliveries runs them before the next delivery, which reads what they wrote", async () => {
    await seed(["l2", "l3"]);
    const read: Array<string | null | undefined> = [];
    const inbox = new InboxProcessor(
      ds,
      {
        "test.later": async (em, payload) => {
          const { id, reads } = payload as { id: string; reads: string };
          read.push(await actorOf(em, reads));
          DeferredWrites.later(em, { sql: SET_NAME, params: [id, `by ${id}`] });
          return "applied";
        },
      },
      createLogger("silent"),
    );
    const ids: string[] = (
      await ds.query(
        `INSERT INTO inbox (source, delivery_key, payload) VALUES ('test.later', 'later-a', '{"id":"l2","reads":"l3"}'), ('test.later', 'later-b', '{"id":"l3","reads":"l2"}') RETURNING id`,
      )
    ).map((r: { id: string }) => r.id);
    expect([...(await inbox.processMany(ids))!.values()]).toEqual(["done", "done"]);
    expect(read).toEqual([null, "by l2"]);
    expect([await actorOf(ds, "l2"), await actorOf(ds, "l3")]).toEqual(["by l2", "by l3"]);
  });
});

describe("commits that do not wait for the disk (decision 0013)", () => {
  /** Runs `sql` on both of the pool's connections at once (each waits until the other holds its own). */
  async function onBothConnections(sql: string): Promise<Array<{ s: string; pid: number }>> {
    let arrived = 0;
    let release!: () => void;
    const both = new Promise<void>((r) => (release = r));
    return Promise.all(
      [1, 2].map(() =>
        ds.transaction(async (em) => {
          if (++arrived === 2) release();
          await both;
          return (await em.query(sql))[0];
        }),
      ),
    );
  }

  it("applying inbox rows, alone or together, commits asynchronously; the pool's connections stay synchronous", async () => {
    // The tests' embedded server turns synchronous commits off for speed: the connections turn them on.
    await onBothConnections(`SET synchronous_commit = on`);
    const seen: string[] = [];
    const inbox = new InboxProcessor(
      ds,
      {
        "test.commit": async (em) => {
          seen.push((await em.query(`SELECT current_setting('synchronous_commit') AS s`))[0].s);
          return "applied";
        },
      },
      createLogger("silent"),
    );
    const ids: string[] = (
      await ds.query(`INSERT INTO inbox (source, delivery_key, payload) SELECT 'test.commit', 'commit-' || i, '{}' FROM generate_series(1, 3) i RETURNING id`)
    ).map((r: { id: string }) => r.id);
    expect(await inbox.process(ids[0]!)).toBe("done");
    expect([...(await inbox.processMany(ids.slice(1)))!.values()]).toEqual(["done", "done"]);
    expect(seen).toEqual(["off", "off", "off"]);
    // Set for those transactions only: both connections of the pool wait for the flush again.
    const after = await onBothConnections(`SELECT current_setting('synchronous_commit') AS s, pg_backend_pid() AS pid`);
    expect(new Set(after.map((r) => r.pid)).size).toBe(2);
    expect(after.map((r) => r.s)).toEqual(["on", "on"]);
  });
});

describe("row locks of the ingest", () => {
  it("a call locked while a leg of it is applied does not hold up a pop of it", async () => {
    const calls = new CallsRepository();
    const [user] = await ds.query(`INSERT INTO users (email, name, role, password_hash, dial_target) VALUES ('lock@test.test', 'Lock', 'agent', 'x', 'client:lock') RETURNING id`);
    const { call } = await ds.transaction((em) =>
      calls.upsertAndLock(em, { provider: "twilio", providerCallId: "CAlock", direction: "inbound", fromRaw: "+15550001111", toRaw: "+15005550100", fromE164: "+15550001111", toE164: "+15005550100", status: "ringing", startedAt: new Date() }),
    );
    const runner = ds.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const locked = await calls.lockWithLeg(runner.manager, { provider: "twilio", providerCallId: "CAlock", legId: "CAleg", target: "client:lock", status: "ringing", rank: 3, occurredAt: new Date(), answered: false, ended: false });
      expect(locked?.leg.userId).toBe(user.id);
      // Meanwhile the dispatcher stores the call's card and pop: their foreign-key checks must not wait.
      const popped = await unprepared.transaction(async (em) => {
        await em.query(`SET LOCAL lock_timeout = '500ms'`);
        return em.query(
          `WITH card AS (INSERT INTO screen_pop_cards (call_id, payload) VALUES ($1, '{}')) INSERT INTO screen_pops (call_id, user_id) VALUES ($1, $2) RETURNING call_id`,
          [call.id, user.id],
        );
      });
      expect(popped).toEqual([{ call_id: call.id }]);
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
  });
});
