import "reflect-metadata";
import { DataSource, type DataSourceOptions, type MigrationInterface, type QueryRunner } from "typeorm";
import { allEntities } from "../../src/container";
import { createDataSource } from "../../src/platform/db/data-source";
import { migrate } from "../../src/platform/db/migrate";
import { createLogger } from "../../src/platform/logger";
import { createTestDatabase, type TestDatabase } from "../support/test-db";

const log = createLogger("silent");
let db: TestDatabase;
let ds: DataSource;

beforeAll(async () => {
  db = await createTestDatabase({ empty: true });
  ds = await createDataSource(db.url, allEntities, { poolSize: 2 }).initialize();
});
afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
});

const tables = async () =>
  (await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations' ORDER BY 1`)).map(
    (r: { table_name: string }) => r.table_name,
  );

describe("migrations from an empty database", () => {
  it("create every table, seed the default pipeline, and are idempotent", async () => {
    expect(await tables()).toEqual([]);
    expect(await migrate(ds, log)).toEqual(["InitialSchema1764000000000", "SeedDefaultPipeline1764000000001", "OwnNumberLookup1764000000002", "TrackingLeases1764000000003", "TaskClosingCall1764000000004", "TrackingProviderCalls1764000000005", "CallReportColumns1764000000006", "LoginLockout1764000000007", "TaskMissedCallsIndex1764000000008", "OutboundWebhookHealth1764000000009", "ClickToCall1764000000010", "ListenSessions1764000000011", "OwnNumbers1764000000012", "LeanerHotPathIndexes1764000000013", "ScreenPopCards1764000000014", "Retention1764000000015", "TrackingSessionRetention1764000000016", "InboxFailures1764000000017", "ScreenPopCardsOnly1764000000018", "DealReportColumns1764000000019", "ScreenPopsRoomForAcks1764000000020"]);
    expect(await tables()).toEqual(
      expect.arrayContaining(["users", "contacts", "contact_phones", "calls", "call_legs", "call_events", "recordings", "inbox", "outbox", "tasks", "deals", "audit_log", "listen_sessions", "screen_pop_cards"]),
    );
    const stages = await ds.query(`SELECT s.name, s.kind FROM pipeline_stages s JOIN pipelines p ON p.id = s.pipeline_id WHERE p.is_default ORDER BY s.position`);
    expect(stages.map((s: { name: string }) => s.name)).toEqual(["New lead", "Qualified", "Proposal", "Negotiation", "Won", "Lost"]);
    expect(await migrate(ds, log)).toEqual([]);
  });

  it("every entity column exists in its table with the same nullability", async () => {
    const columns: Array<{ table_name: string; column_name: string; is_nullable: string }> = await ds.query(
      `SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    const byTable = new Map<string, Map<string, boolean>>();
    for (const c of columns) {
      const t = byTable.get(c.table_name) ?? new Map<string, boolean>();
      t.set(c.column_name, c.is_nullable === "YES");
      byTable.set(c.table_name, t);
    }
    const mismatches: string[] = [];
    for (const meta of ds.entityMetadatas) {
      const table = byTable.get(meta.tableName);
      if (!table) {
        mismatches.push(`${meta.tableName}: table missing`);
        continue;
      }
      for (const col of meta.columns) {
        const nullable = table.get(col.databaseName);
        if (nullable === undefined) mismatches.push(`${meta.tableName}.${col.databaseName}: column missing`);
        else if (nullable !== col.isNullable) mismatches.push(`${meta.tableName}.${col.databaseName}: nullable ${nullable} in db, ${col.isNullable} in entity`);
      }
      if (meta.columns.length !== table.size) mismatches.push(`${meta.tableName}: ${table.size} columns in db, ${meta.columns.length} in entity`);
    }
    expect(mismatches).toEqual([]);
  });

  it("TypeORM sees no column difference between entities and the migrated schema", async () => {
    const { upQueries } = await ds.driver.createSchemaBuilder().log();
    // Constraints and indexes live only in the migrations (entities declare no relations), so
    // only column changes would mean the two disagree.
    const columnChanges = upQueries.map((q) => q.query).filter((q) => /ALTER TABLE .* (ADD|ALTER|DROP) COLUMN|CREATE TABLE/.test(q));
    expect(columnChanges).toEqual([]);
  });

  it("migration 18 moves a card left on a pop's row to its call's cards, where the replay reads it", async () => {
    await ds.undoLastMigration();
    await ds.undoLastMigration();
    await ds.undoLastMigration();
    const [{ id: userId }] = await ds.query(`INSERT INTO users (email, name, role, password_hash) VALUES ('m18@test', 'A', 'agent', 'x') RETURNING id`);
    const call = async (sid: string) =>
      (await ds.query(`INSERT INTO calls (provider, provider_call_id, direction, from_raw, to_raw, status, started_at) VALUES ('twilio', $1, 'inbound', '+1', '+2', 'ringing', now()) RETURNING id`, [sid]))[0].id as string;
    const [old, both] = [await call("CA-m18-old"), await call("CA-m18-both")];
    // A pop from before migration 14 (its card on its row, none per call), and one whose call also has a card.
    await ds.query(`INSERT INTO screen_pops (call_id, user_id, status, payload) VALUES ($1, $3, 'sent', '{"card":"old"}'), ($2, $3, 'sent', '{"card":"row"}')`, [old, both, userId]);
    await ds.query(`INSERT INTO screen_pop_cards (call_id, payload) VALUES ($1, '{"card":"per call"}')`, [both]);

    expect(await migrate(ds, log)).toEqual(["ScreenPopCardsOnly1764000000018", "DealReportColumns1764000000019", "ScreenPopsRoomForAcks1764000000020"]);
    expect(await ds.query(`SELECT call_id, payload FROM screen_pop_cards WHERE call_id = ANY($1::uuid[]) ORDER BY payload->>'card'`, [[old, both]])).toEqual([
      { call_id: old, payload: { card: "old" } },
      { call_id: both, payload: { card: "per call" } },
    ]);
    expect(await ds.query(`SELECT count(*)::int AS n FROM screen_pops WHERE payload IS NOT NULL`)).toEqual([{ n: 0 }]);
  });

  it("migration 19 copies the labels of each deal's attribution onto the deal, where the report reads them", async () => {
    await ds.undoLastMigration();
    await ds.undoLastMigration();
    const [call] = await ds.query(
      `INSERT INTO calls (provider, provider_call_id, direction, from_raw, to_raw, status, started_at) VALUES ('twilio', 'CA-m19', 'inbound', '+1', '+2', 'completed', now()) RETURNING id`,
    );
    const [a] = await ds.query(
      `INSERT INTO call_attributions (call_id, is_primary, method, confidence, source, medium, campaign, keyword) VALUES ($1, true, 'session', 1, 'google', 'cpc', 'fall', 'boots') RETURNING id`,
      [call.id],
    );
    const [stage] = await ds.query(`SELECT id, pipeline_id FROM pipeline_stages ORDER BY position LIMIT 1`);
    const [contact] = await ds.query(`INSERT INTO contacts (name) VALUES ('M19') RETURNING id`);
    const deal = (title: string, attributionId: string | null) =>
      ds.query(`INSERT INTO deals (contact_id, pipeline_id, stage_id, title, source_call_id, attribution_id) VALUES ($1, $2, $3, $4, $5, $6)`, [
        contact.id,
        stage.pipeline_id,
        stage.id,
        title,
        call.id,
        attributionId,
      ]);
    await deal("attributed", a.id);
    await deal("not attributed", null);

    expect(await migrate(ds, log)).toEqual(["DealReportColumns1764000000019", "ScreenPopsRoomForAcks1764000000020"]);
    expect(await ds.query(`SELECT title, attr_source, attr_medium, attr_campaign, attr_keyword FROM deals WHERE source_call_id = $1 ORDER BY title`, [call.id])).toEqual([
      { title: "attributed", attr_source: "google", attr_medium: "cpc", attr_campaign: "fall", attr_keyword: "boots" },
      { title: "not attributed", attr_source: null, attr_medium: null, attr_campaign: null, attr_keyword: null },
    ]);
    // The seed goes, so that the revert below reaches an empty database.
    await ds.query(`DELETE FROM deals WHERE contact_id = $1`, [contact.id]);
    await ds.query(`DELETE FROM contacts WHERE id = $1`, [contact.id]);
  });

  it("migration 20 leaves a fifth of each new page of screen_pops free, for its acks' HOT updates", async () => {
    const fillfactor = async () => (await ds.query(`SELECT reloptions FROM pg_class WHERE relname = 'screen_pops'`))[0].reloptions;
    expect(await fillfactor()).toEqual(["fillfactor=80"]);
    await ds.undoLastMigration();
    expect(await fillfactor()).toBeNull();
    expect(await migrate(ds, log)).toEqual(["ScreenPopsRoomForAcks1764000000020"]);
  });

  it("revert to empty and apply again", async () => {
    for (let i = 0; i < ds.migrations.length; i++) await ds.undoLastMigration();
    expect(await tables()).toEqual([]);
    expect(await migrate(ds, log)).toHaveLength(ds.migrations.length);
  });
});

describe("the migration runner", () => {
  it("runs migrations without the pool's statement timeout, which is there for requests", async () => {
    const own = await createTestDatabase({ empty: true });
    let timeout: string | undefined;
    class ReadsTimeout1900000000000 implements MigrationInterface {
      name = "ReadsTimeout1900000000000";
      async up(q: QueryRunner): Promise<void> {
        [{ statement_timeout: timeout }] = await q.query(`SHOW statement_timeout`);
      }
      async down(): Promise<void> {}
    }
    const pool = await new DataSource({ ...ds.options, url: own.url, migrations: [ReadsTimeout1900000000000] } as DataSourceOptions).initialize();
    try {
      expect(await pool.query(`SHOW statement_timeout`)).toEqual([{ statement_timeout: "15s" }]);
      expect(await migrate(pool, log)).toEqual(["ReadsTimeout1900000000000"]);
      expect(timeout).toBe("0");
    } finally {
      await pool.destroy();
      await own.drop();
    }
  });
});
