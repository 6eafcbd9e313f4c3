import { randomUUID } from "node:crypto";
import { startTestService, type TestService } from "../support/test-service";

let svc: TestService;
let marketer: string;

const q = (sql: string, params: unknown[] = []) => svc.container.ds.query(sql, params);
const get = (path: string, token = marketer) => svc.http.get(path).set("authorization", `Bearer ${token}`);

async function contact(name: string): Promise<string> {
  return (await q(`INSERT INTO contacts (name) VALUES ($1) RETURNING id`, [name]))[0].id;
}

interface SeedCall {
  contactId: string | null;
  startedAt: string;
  outcome: "answered" | "missed";
  firstTime: boolean;
  direction?: "inbound" | "outbound";
  attribution?: { source: string; medium: string; campaign: string | null; keyword: string | null };
  /** A non-primary candidate, which reports must not count. */
  candidate?: { source: string };
  deal?: { status: "open" | "won" | "lost"; amount?: number };
}

async function seedCall(c: SeedCall): Promise<void> {
  const [call] = await q(
    `INSERT INTO calls (provider, provider_call_id, direction, from_raw, to_raw, contact_id, status, outcome, is_first_time_caller, started_at)
     VALUES ('twilio', $1, $2, '+14155550000', '+15005550100', $3, 'completed', $4, $5, $6) RETURNING id`,
    [randomUUID(), c.direction ?? "inbound", c.contactId, c.outcome, c.firstTime, c.startedAt],
  );
  if (c.attribution) {
    const a = c.attribution;
    await q(
      `INSERT INTO call_attributions (call_id, is_primary, method, confidence, source, medium, campaign, keyword) VALUES ($1, true, 'session', 1, $2, $3, $4, $5)`,
      [call.id, a.source, a.medium, a.campaign, a.keyword],
    );
  }
  if (c.candidate) {
    await q(`INSERT INTO call_attributions (call_id, is_primary, method, confidence, source) VALUES ($1, false, 'session', 0.5, $2)`, [call.id, c.candidate.source]);
  }
  if (c.deal && c.contactId) {
    const [stage] = await q(`SELECT s.id, s.pipeline_id FROM pipeline_stages s JOIN pipelines p ON p.id = s.pipeline_id WHERE p.is_default ORDER BY s.position LIMIT 1`);
    await q(
      `INSERT INTO deals (contact_id, pipeline_id, stage_id, title, status, amount, source_call_id, created_at) VALUES ($1, $2, $3, 'seeded', $4, $5, $6, $7)`,
      [c.contactId, stage.pipeline_id, stage.id, c.deal.status, c.deal.amount ?? null, call.id, c.startedAt],
    );
  }
}

const google = (keyword: string) => ({ source: "google", medium: "cpc", campaign: "spring", keyword });
const facebook = { source: "facebook", medium: "social", campaign: "summer", keyword: null };

beforeAll(async () => {
  svc = await startTestService({ role: "web" });
  marketer = (await svc.signIn("marketer")).token;
  const [a, b, c, d] = [await contact("A"), await contact("B"), await contact("C"), await contact("D")];
  // March 2026: six inbound calls, counted by hand below.
  await seedCall({ contactId: a, startedAt: "2026-03-02T10:00:00Z", outcome: "answered", firstTime: true, attribution: google("shoes"), deal: { status: "won", amount: 100 } });
  await seedCall({ contactId: b, startedAt: "2026-03-03T10:00:00Z", outcome: "missed", firstTime: true, attribution: google("boots"), deal: { status: "open" } });
  await seedCall({ contactId: a, startedAt: "2026-03-04T10:00:00Z", outcome: "answered", firstTime: false, attribution: google("shoes") });
  await seedCall({ contactId: c, startedAt: "2026-03-05T10:00:00Z", outcome: "answered", firstTime: true, attribution: facebook, candidate: { source: "google" }, deal: { status: "won", amount: 250.5 } });
  await seedCall({ contactId: d, startedAt: "2026-03-06T10:00:00Z", outcome: "missed", firstTime: true });
  await seedCall({ contactId: c, startedAt: "2026-03-31T23:59:59Z", outcome: "missed", firstTime: false, attribution: facebook });
  // Not counted: an outbound call in March, and an inbound call in April.
  await seedCall({ contactId: a, startedAt: "2026-03-10T10:00:00Z", outcome: "answered", firstTime: false, direction: "outbound", attribution: google("shoes") });
  await seedCall({ contactId: b, startedAt: "2026-04-01T00:00:00Z", outcome: "answered", firstTime: false, attribution: { source: "google", medium: "cpc", campaign: "=2+3", keyword: null } });
  // Seeded behind the ingest's back: derive the report columns as the ingest would have.
  await svc.container.tracking.reports.rebuildReportColumns();
});
afterAll(async () => svc?.close());

describe("GET /api/reports/attribution", () => {
  it("counts calls, callers, outcomes, deals and revenue by source, matching a hand count", async () => {
    const res = await get("/api/reports/attribution?from=2026-03-01&to=2026-03-31&groupBy=source").expect(200);
    expect(res.body.from).toBe("2026-03-01T00:00:00.000Z");
    expect(res.body.to).toBe("2026-04-01T00:00:00.000Z");
    expect(res.body.items).toEqual([
      { key: "google", calls: 3, uniqueCallers: 2, firstTimeCallers: 2, answered: 2, missed: 1, deals: 2, won: 1, revenue: 100, callToDeal: 0.6667, callToWon: 0.3333 },
      { key: "facebook", calls: 2, uniqueCallers: 1, firstTimeCallers: 1, answered: 1, missed: 1, deals: 1, won: 1, revenue: 250.5, callToDeal: 0.5, callToWon: 0.5 },
      { key: "(none)", calls: 1, uniqueCallers: 1, firstTimeCallers: 1, answered: 0, missed: 1, deals: 0, won: 0, revenue: 0, callToDeal: 0, callToWon: 0 },
    ]);
    expect(res.body.totals).toEqual({ calls: 6, uniqueCallers: 4, firstTimeCallers: 4, answered: 3, missed: 3, deals: 3, won: 2, revenue: 350.5, callToDeal: 0.5, callToWon: 0.3333 });
  });

  it("groups by keyword, with calls that have none together", async () => {
    const res = await get("/api/reports/attribution?from=2026-03-01&to=2026-03-31&groupBy=keyword").expect(200);
    expect(res.body.items.map((r: { key: string; calls: number; uniqueCallers: number; revenue: number }) => [r.key, r.calls, r.uniqueCallers, r.revenue])).toEqual([
      ["(none)", 3, 2, 250.5],
      ["shoes", 2, 1, 100],
      ["boots", 1, 1, 0],
    ]);
  });

  it("downloads the same as CSV, with formula-like values defused", async () => {
    const res = await get("/api/reports/attribution?from=2026-04-01&to=2026-04-30&groupBy=campaign&format=csv").expect(200);
    expect(res.headers["content-type"]).toMatch(/^text\/csv/);
    expect(res.headers["content-disposition"]).toContain("attribution-by-campaign.csv");
    expect(res.text.trim().split("\n")).toEqual([
      "key,calls,uniqueCallers,firstTimeCallers,answered,missed,deals,won,revenue,callToDeal,callToWon",
      "'=2+3,1,1,0,1,0,0,0,0,0,0",
    ]);
  });

  it("reports:rebuild labels a deal linked without labels (by the previous release) and rewrites no other row", async () => {
    const rowVersions = async () =>
      (await q(`SELECT 'call' AS t, id, xmin::text AS v FROM calls UNION ALL SELECT 'deal', id, xmin::text FROM deals ORDER BY 1, 2`)) as Array<{ t: string; id: string; v: string }>;
    const [won] = await q(`SELECT id FROM deals WHERE amount = 250.5`);
    await q(`UPDATE deals SET attr_source = NULL, attr_medium = NULL, attr_campaign = NULL, attr_keyword = NULL WHERE id = $1`, [won.id]);
    const before = await rowVersions();

    await svc.container.tracking.reports.rebuildReportColumns();
    const rewritten = (await rowVersions()).filter((r, i) => r.v !== before[i]!.v).map((r) => r.id);
    expect(rewritten).toEqual([won.id]);
    expect(await q(`SELECT attr_source, attr_medium, attr_campaign, attr_keyword FROM deals WHERE id = $1`, [won.id])).toEqual([
      { attr_source: "facebook", attr_medium: "social", attr_campaign: "summer", attr_keyword: null },
    ]);
  });

  it("refuses bad parameters with 400", async () => {
    for (const query of ["groupBy=phone", "from=2026-03-10&to=2026-03-01", "from=yesterday", "from=2020-01-01&to=2026-01-01", "limit=5", "format=xml"]) {
      const res = await get(`/api/reports/attribution?${query}`);
      expect({ query, status: res.status, code: res.body.error?.code }).toEqual({ query, status: 400, code: "validation_failed" });
    }
  });

  it("is for marketers and admins only", async () => {
    for (const role of ["agent", "supervisor"] as const) await get("/api/reports/attribution", (await svc.signIn(role)).token).expect(403);
    await get("/api/reports/attribution", (await svc.signIn("admin")).token).expect(200);
    await svc.http.get("/api/reports/attribution").expect(401);
  });
});

describe("GET /api/reports/pools", () => {
  it("reports the peak of leases and of demand, exhaustions, and the size that keeps the pool at 75%", async () => {
    const [pool] = await q(`INSERT INTO tracking_pools (name, overflow_number) VALUES ('landing', '+15005550699') RETURNING id`);
    const numbers = [];
    for (const n of ["+15005550601", "+15005550602", "+15005550603"]) {
      numbers.push((await q(`INSERT INTO tracking_numbers (number, pool_id) VALUES ($1, $2) RETURNING id`, [n, pool.id]))[0].id);
    }
    const session = (numberId: string | null, from: string, to: string) =>
      q(`INSERT INTO tracking_sessions (pool_id, tracking_number_id, is_overflow, created_at, lease_expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`, [
        pool.id,
        numberId,
        numberId === null,
        from,
        to,
      ]);
    await session(numbers[0], "2026-03-02T10:00:00Z", "2026-03-02T10:30:00Z");
    await session(numbers[1], "2026-03-02T10:10:00Z", "2026-03-02T10:40:00Z");
    await session(numbers[2], "2026-03-02T10:20:00Z", "2026-03-02T10:50:00Z");
    const [overflow] = await session(null, "2026-03-02T10:25:00Z", "2026-03-02T10:55:00Z");
    await session(numbers[0], "2026-03-02T11:00:00Z", "2026-03-02T11:30:00Z");
    await q(`INSERT INTO tracking_pool_exhaustions (pool_id, session_id, occurred_at) VALUES ($1, $2, '2026-03-02T10:25:00Z')`, [pool.id, overflow.id]);

    const res = await get("/api/reports/pools?from=2026-03-01&to=2026-03-31").expect(200);
    expect(res.body.items).toEqual([{ pool: "landing", size: 3, peakLeased: 3, peakDemand: 4, exhaustions: 1, recommendedSize: 6 }]);
    const csv = await get("/api/reports/pools?from=2026-03-01&to=2026-03-31&format=csv").expect(200);
    expect(csv.text.trim().split("\n")[1]).toBe("landing,3,3,4,1,6");
  });
});
