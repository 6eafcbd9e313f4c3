import { startTestService, type TestService } from "../support/test-service";

let svc: TestService;
let admin: string;

const POOL_NUMBERS = ["+15005550201", "+15005550202"];
const OVERFLOW = "+15005550299";

const lease = (body: Record<string, unknown>) => svc.http.post("/api/tracking/sessions").send(body);
const page = (query = "") => `https://shop.example.com/landing${query}`;
const count = async (table: string) => Number((await svc.container.ds.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n);

/** Ends every lease of the session, as if its hold time had passed. */
async function expire(sessionId: string) {
  await svc.container.ds.query(`UPDATE tracking_sessions SET lease_expires_at = now() - interval '1 minute' WHERE id = $1`, [sessionId]);
  await svc.container.ds.query(`UPDATE tracking_numbers SET leased_until = now() - interval '1 minute' WHERE leased_session_id = $1`, [sessionId]);
}

beforeAll(async () => {
  svc = await startTestService({ role: "web", env: { TRACKING_SESSIONS_PER_MINUTE: "1000" } });
  admin = (await svc.signIn("admin")).token;
  await svc.http.post("/api/tracking/pools").set("authorization", `Bearer ${admin}`).send({ name: "web", overflowNumber: OVERFLOW, holdMinutes: 30 }).expect(201);
  for (const number of POOL_NUMBERS) {
    await svc.http.post("/api/tracking/numbers").set("authorization", `Bearer ${admin}`).send({ number, pool: "web" }).expect(201);
  }
});
afterAll(async () => svc?.close());

beforeEach(async () => {
  await svc.container.ds.query(`UPDATE tracking_numbers SET leased_session_id = NULL, leased_until = NULL`);
  await svc.container.ds.query(`DELETE FROM tracking_sessions`);
});

describe("POST /api/tracking/sessions", () => {
  it("leases a free pool number for the hold time and reads utm tags and click ids from the landing page", async () => {
    const before = Date.now();
    const res = await lease({
      pool: "web",
      landingPage: page("?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_term=red+shoes&gclid=abc123"),
      referrer: "https://www.google.com/",
    }).expect(200);
    expect(POOL_NUMBERS).toContain(res.body.number);
    expect(res.body.overflow).toBe(false);
    const expires = Date.parse(res.body.expiresAt);
    expect(expires - before).toBeGreaterThan(29 * 60_000);
    expect(expires - before).toBeLessThan(31 * 60_000);
    const [row] = await svc.container.ds.query(`SELECT * FROM tracking_sessions WHERE id = $1`, [res.body.sessionId]);
    expect(row).toMatchObject({
      utm_source: "google",
      utm_medium: "cpc",
      utm_campaign: "spring",
      utm_term: "red shoes",
      click_id_type: "gclid",
      click_id: "abc123",
      referrer: "https://www.google.com/",
      number: res.body.number,
    });
    expect(res.headers["access-control-allow-origin"]).toBe("*");
  });

  it("derives the source from a click id or the referrer when the page has no utm tags", async () => {
    const byClick = await lease({ pool: "web", landingPage: page("?msclkid=xyz") }).expect(200);
    const bySearch = await lease({ pool: "web", landingPage: page(), referrer: "https://duckduckgo.com/?q=shoes" }).expect(200);
    const direct = await lease({ pool: "web", landingPage: page() }).expect(200);
    const rows = await svc.container.ds.query(`SELECT id, utm_source, utm_medium FROM tracking_sessions`);
    const of = (id: string) => rows.find((r: { id: string }) => r.id === id);
    expect(of(byClick.body.sessionId)).toMatchObject({ utm_source: "bing", utm_medium: "cpc" });
    expect(of(bySearch.body.sessionId)).toMatchObject({ utm_source: "duckduckgo", utm_medium: "organic" });
    expect(of(direct.body.sessionId)).toMatchObject({ utm_source: "(direct)", utm_medium: "(none)" });
  });

  it("renews a returning session's lease on the same number", async () => {
    const first = await lease({ pool: "web", landingPage: page() }).expect(200);
    await svc.container.ds.query(`UPDATE tracking_sessions SET lease_expires_at = now() + interval '1 minute' WHERE id = $1`, [first.body.sessionId]);
    const again = await lease({ pool: "web", landingPage: page("/pricing"), sessionId: first.body.sessionId }).expect(200);
    expect(again.body).toMatchObject({ sessionId: first.body.sessionId, number: first.body.number, overflow: false });
    expect(Date.parse(again.body.expiresAt) - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(await count("tracking_sessions")).toBe(1);
  });

  it("frees an expired lease for others, and a returning session keeps its number if nobody took it", async () => {
    const a = await lease({ pool: "web", landingPage: page() }).expect(200);
    await expire(a.body.sessionId);
    const back = await lease({ pool: "web", landingPage: page(), sessionId: a.body.sessionId }).expect(200);
    expect(back.body.number).toBe(a.body.number);

    await expire(a.body.sessionId);
    const b = await lease({ pool: "web", landingPage: page() }).expect(200);
    const c = await lease({ pool: "web", landingPage: page() }).expect(200);
    expect(new Set([b.body.number, c.body.number])).toEqual(new Set(POOL_NUMBERS));
    const late = await lease({ pool: "web", landingPage: page(), sessionId: a.body.sessionId }).expect(200);
    expect(late.body).toMatchObject({ number: OVERFLOW, overflow: true });
  });

  it("answers an exhausted pool with its overflow number and records the exhaustion", async () => {
    const exhaustions = await count("tracking_pool_exhaustions");
    const leased = [];
    for (let i = 0; i < POOL_NUMBERS.length; i++) leased.push((await lease({ pool: "web", landingPage: page() }).expect(200)).body.number);
    const third = await lease({ pool: "web", landingPage: page() }).expect(200);
    expect(new Set(leased)).toEqual(new Set(POOL_NUMBERS));
    expect(third.body).toMatchObject({ number: OVERFLOW, overflow: true });
    expect(await count("tracking_pool_exhaustions")).toBe(exhaustions + 1);
  });

  it("never leases one number twice under concurrent requests", async () => {
    const results = await Promise.all(Array.from({ length: 12 }, () => lease({ pool: "web", landingPage: page() }).expect(200)));
    const numbers = results.map((r) => r.body.number);
    expect(numbers.filter((n) => n !== OVERFLOW).sort()).toEqual([...POOL_NUMBERS].sort());
    expect(numbers.filter((n) => n === OVERFLOW)).toHaveLength(10);
  });

  it("shares the soonest-ending lease when a pool without overflow runs out, and says so", async () => {
    await svc.http.post("/api/tracking/numbers").set("authorization", `Bearer ${admin}`).send({ number: "+15005550301", pool: "tiny" }).expect(201);
    const one = await lease({ pool: "tiny", landingPage: page() }).expect(200);
    const two = await lease({ pool: "tiny", landingPage: page() }).expect(200);
    expect(one.body).toMatchObject({ number: "+15005550301", overflow: false });
    expect(two.body).toMatchObject({ number: "+15005550301", overflow: true });
    const [row] = await svc.container.ds.query(`SELECT is_shared FROM tracking_sessions WHERE id = $1`, [two.body.sessionId]);
    expect(row.is_shared).toBe(true);
  });

  it("accepts text/plain bodies (no CORS preflight) and answers the preflight itself", async () => {
    const res = await svc.http
      .post("/api/tracking/sessions")
      .set("content-type", "text/plain")
      .send(JSON.stringify({ pool: "web", landingPage: page() }))
      .expect(200);
    expect(res.body.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const pre = await svc.http.options("/api/tracking/sessions").set("origin", "https://shop.example.com").expect(204);
    expect(pre.headers["access-control-allow-origin"]).toBe("*");
    expect(pre.headers["access-control-allow-methods"]).toContain("POST");
  });

  it("refuses unknown pools, forged sessions and junk landing pages with a 4xx, changing nothing", async () => {
    const real = await lease({ pool: "web", landingPage: page() }).expect(200);
    const sessions = await count("tracking_sessions");
    const leases = await svc.container.ds.query(`SELECT id, leased_session_id, leased_until FROM tracking_numbers ORDER BY id`);
    const cases: Array<[Record<string, unknown> | string, number, string]> = [
      [{ pool: "nope", landingPage: page() }, 404, "not_found"],
      [{ pool: "web", landingPage: page(), sessionId: "6f1d2c3b-0000-4000-8000-000000000000" }, 404, "not_found"],
      [{ pool: "tiny", landingPage: page(), sessionId: real.body.sessionId }, 404, "not_found"],
      [{ pool: "web", landingPage: page(), sessionId: "not-a-uuid" }, 400, "validation_failed"],
      [{ pool: "web", landingPage: "javascript:alert(1)" }, 400, "validation_failed"],
      [{ pool: "web", landingPage: "not a url" }, 400, "validation_failed"],
      [{ pool: "web", landingPage: page(`?q=${"x".repeat(3000)}`) }, 400, "validation_failed"],
      [{ pool: "web", landingPage: page(), referrer: "ftp://example.com/" }, 400, "validation_failed"],
      [{ pool: "web", landingPage: page(), isAdmin: true }, 400, "validation_failed"],
      [{ pool: "web" }, 400, "validation_failed"],
      ["{not json", 400, "malformed_json"],
      [{ pool: "web", landingPage: page(), junk: "y".repeat(10_000) }, 413, "payload_too_large"],
    ];
    for (const [body, status, code] of cases) {
      const req = svc.http.post("/api/tracking/sessions").set("content-type", "application/json");
      const res = await req.send(typeof body === "string" ? body : JSON.stringify(body));
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status, code });
    }
    expect(await count("tracking_sessions")).toBe(sessions);
    expect(await svc.container.ds.query(`SELECT id, leased_session_id, leased_until FROM tracking_numbers ORDER BY id`)).toEqual(leases);
  });
});

describe("session rate limit", () => {
  let limited: TestService;
  beforeAll(async () => {
    limited = await startTestService({ role: "web", env: { TRACKING_SESSIONS_PER_MINUTE: "3" } });
  });
  afterAll(async () => limited?.close());

  it("answers 429 to a burst beyond the per-minute limit", async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await limited.http.post("/api/tracking/sessions").send({ pool: "none", landingPage: page() })).status);
    expect(statuses).toEqual([404, 404, 404, 429, 429]);
  });
});

describe("GET /tracking.js", () => {
  it("serves the snippet as cross-origin JavaScript", async () => {
    const res = await svc.http.get("/tracking.js").expect(200);
    expect(res.headers["content-type"]).toMatch(/^application\/javascript/);
    expect(res.headers["cross-origin-resource-policy"]).toBe("cross-origin");
    expect(res.text).toContain("/api/tracking/sessions");
  });
});
