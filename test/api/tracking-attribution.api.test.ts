import { as as asUser } from "../support/http";
import { startTestService, type TestService } from "../support/test-service";
import { answeredCallbacks, drainInbox, newCall, parentStatus, postSigned, voice, type CallScript, type Delivery } from "../support/twilio";

let svc: TestService;
let admin: string;

const STATIC_NUMBER = "+15005550401";
const POOL_NUMBER = "+15005550402";
const SHARED_NUMBER = "+15005550403";
const OVERFLOW = "+15005550499";

const authed = (token: string) => asUser(svc, token);
const lease = async (pool: string, query: string) =>
  (await svc.http.post("/api/tracking/sessions").send({ pool, landingPage: `https://shop.example.com/${query}` }).expect(200)).body as {
    sessionId: string;
    number: string;
  };

async function send(deliveries: Delivery[]) {
  for (const d of deliveries) expect((await postSigned(svc, d)).status).toBeLessThan(300);
  await drainInbox(svc);
}

async function callRow(c: CallScript) {
  const [row] = await svc.container.ds.query(`SELECT id, contact_id, deal_id, is_first_time_caller FROM calls WHERE provider_call_id = $1`, [c.callSid]);
  return row as { id: string; contact_id: string | null; deal_id: string | null; is_first_time_caller: boolean };
}

async function attributions(c: CallScript) {
  const { id } = await callRow(c);
  return svc.container.ds.query(
    `SELECT is_primary, method, confidence::float8 AS confidence, source, medium, campaign, keyword, click_id, tracking_number, session_id
     FROM call_attributions WHERE call_id = $1 ORDER BY is_primary DESC, confidence DESC`,
    [id],
  );
}

beforeAll(async () => {
  svc = await startTestService({ role: "web", env: { TRACKING_SESSIONS_PER_MINUTE: "1000" } });
  admin = (await svc.signIn("admin")).token;
  const a = authed(admin);
  await a.post("/api/tracking/numbers", { number: STATIC_NUMBER, source: "billboard", medium: "offline", campaign: "highway-101" }).expect(201);
  await a.post("/api/tracking/pools", { name: "web", overflowNumber: OVERFLOW }).expect(201);
  await a.post("/api/tracking/numbers", { number: POOL_NUMBER, pool: "web" }).expect(201);
  await a.post("/api/tracking/numbers", { number: SHARED_NUMBER, pool: "shared" }).expect(201);
});
afterAll(async () => svc?.close());

describe("attribution of inbound calls", () => {
  it("takes a static number's fixed source, and gives it to the new contact's first touch and the deal the call opened", async () => {
    const call = newCall("+14155550601", STATIC_NUMBER);
    await send([voice(call)]);
    expect(await attributions(call)).toEqual([
      expect.objectContaining({ is_primary: true, method: "static", confidence: 1, source: "billboard", medium: "offline", campaign: "highway-101", tracking_number: STATIC_NUMBER }),
    ]);
    const row = await callRow(call);
    const [contact] = await svc.container.ds.query(`SELECT first_touch_attribution_id, last_touch_attribution_id FROM contacts WHERE id = $1`, [row.contact_id]);
    const [deal] = await svc.container.ds.query(`SELECT attribution_id, attr_source, attr_medium, attr_campaign, attr_keyword FROM deals WHERE id = $1`, [row.deal_id]);
    const [primary] = await svc.container.ds.query(`SELECT id FROM call_attributions WHERE call_id = $1 AND is_primary`, [row.id]);
    expect(contact).toEqual({ first_touch_attribution_id: primary.id, last_touch_attribution_id: primary.id });
    expect(deal).toEqual({ attribution_id: primary.id, attr_source: "billboard", attr_medium: "offline", attr_campaign: "highway-101", attr_keyword: null });
    expect(row.is_first_time_caller).toBe(true);

    const res = await authed(admin).get(`/api/calls/${row.id}`).expect(200);
    expect(res.body.attribution).toMatchObject({ source: "billboard", method: "static", confidence: 1, trackingNumber: STATIC_NUMBER });
  });

  it("takes the keyword and click id of the website session holding the pool number, whichever webhook arrives first", async () => {
    const session = await lease("web", "?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_term=blue+widgets&gclid=G-1");
    expect(session.number).toBe(POOL_NUMBER);
    const call = newCall("+14155550602", POOL_NUMBER);
    // The status callback arrives before the voice webhook: it creates the call, and attributes it.
    await send([parentStatus(call, "ringing"), voice(call), ...answeredCallbacks(call, "client:nobody")]);
    expect(await attributions(call)).toEqual([
      expect.objectContaining({
        is_primary: true,
        method: "session",
        confidence: 1,
        source: "google",
        medium: "cpc",
        campaign: "spring",
        keyword: "blue widgets",
        click_id: "G-1",
        session_id: session.sessionId,
        tracking_number: POOL_NUMBER,
      }),
    ]);
  });

  it("renews the lease of the session whose visitor called", async () => {
    const [before] = await svc.container.ds.query(`SELECT leased_session_id FROM tracking_numbers WHERE number = $1`, [POOL_NUMBER]);
    await svc.container.ds.query(`UPDATE tracking_numbers SET leased_until = now() + interval '1 minute' WHERE number = $1`, [POOL_NUMBER]);
    await svc.container.ds.query(`UPDATE tracking_sessions SET lease_expires_at = now() + interval '1 minute' WHERE id = $1`, [before.leased_session_id]);
    await send([voice(newCall("+14155550603", POOL_NUMBER))]);
    const [after] = await svc.container.ds.query(`SELECT leased_session_id, leased_until FROM tracking_numbers WHERE number = $1`, [POOL_NUMBER]);
    expect(after.leased_session_id).toBe(before.leased_session_id);
    expect(new Date(after.leased_until).getTime() - Date.now()).toBeGreaterThan(25 * 60_000);
  });

  it("keeps every session shown a shared number as a candidate, each with its share of confidence", async () => {
    const first = await lease("shared", "?utm_source=facebook&utm_campaign=a");
    const second = await lease("shared", "?utm_source=newsletter&utm_campaign=b");
    expect(second.number).toBe(first.number);
    const call = newCall("+14155550604", SHARED_NUMBER);
    await send([voice(call)]);
    const rows = await attributions(call);
    expect(rows).toHaveLength(2);
    expect(rows.map((r: { confidence: number }) => r.confidence)).toEqual([0.5, 0.5]);
    expect(rows.filter((r: { is_primary: boolean }) => r.is_primary)).toHaveLength(1);
    expect(new Set(rows.map((r: { session_id: string }) => r.session_id))).toEqual(new Set([first.sessionId, second.sessionId]));
  });

  it("splits an overflow number between the sessions shown it", async () => {
    const a = await lease("web", "?utm_source=bing&utm_campaign=x");
    const b = await lease("web", "?utm_source=yahoo&utm_campaign=y");
    const c = await lease("web", "?utm_source=ask&utm_campaign=z");
    expect([a.number, b.number, c.number]).toEqual([OVERFLOW, OVERFLOW, OVERFLOW]);
    const call = newCall("+14155550605", OVERFLOW);
    await send([voice(call)]);
    const rows = await attributions(call);
    expect(rows).toHaveLength(3);
    for (const r of rows) expect(r.confidence).toBeCloseTo(0.333, 3);
    // The overflow number is ours: never a caller.
    const [contacts] = await svc.container.ds.query(`SELECT count(*)::int AS n FROM contact_phones WHERE e164 = $1`, [OVERFLOW]);
    expect(contacts.n).toBe(0);
  });

  it("attributes nothing to a call on an untracked number, and flags a repeat caller", async () => {
    const first = newCall("+14155550606", "+15005550100");
    const again = newCall("+14155550606", STATIC_NUMBER);
    await send([voice(first)]);
    await send([voice(again)]);
    expect(await attributions(first)).toEqual([]);
    expect((await callRow(first)).is_first_time_caller).toBe(true);
    expect((await callRow(again)).is_first_time_caller).toBe(false);
    const { contact_id } = await callRow(again);
    const [contact] = await svc.container.ds.query(`SELECT first_touch_attribution_id, last_touch_attribution_id FROM contacts WHERE id = $1`, [contact_id]);
    const [primary] = await svc.container.ds.query(`SELECT id FROM call_attributions WHERE call_id = $1`, [(await callRow(again)).id]);
    expect(contact).toEqual({ first_touch_attribution_id: primary.id, last_touch_attribution_id: primary.id });
  });

  it("replayed deliveries add no second attribution", async () => {
    const call = newCall("+14155550607", STATIC_NUMBER);
    for (let i = 0; i < 3; i++) await send([voice(call), parentStatus(call, "ringing")]);
    expect(await attributions(call)).toHaveLength(1);
  });
});

describe("the attribution report over ingested calls", () => {
  it("counts the calls above by source, as the ingest recorded them", async () => {
    const marketer = (await svc.signIn("marketer")).token;
    // Yesterday to tomorrow: this file's calls, even when the run crosses midnight UTC.
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const res = await authed(marketer).get(`/api/reports/attribution?from=${day(-1)}&to=${day(1)}&groupBy=source`).expect(200);
    const row = (key: string) => res.body.items.find((r: { key: string }) => r.key === key);
    // Three calls reached the static number: 601 (new), 606 (calling again) and 607 (new, replayed ×3).
    expect(row("billboard")).toMatchObject({ calls: 3, uniqueCallers: 3, firstTimeCallers: 2, deals: 2 });
    // Two reached the pool number while the google session held it: 602 (answered) and 603 (still ringing).
    expect(row("google")).toMatchObject({ calls: 2, uniqueCallers: 2, answered: 1 });
    expect(res.body.totals.calls).toBe(res.body.items.reduce((n: number, r: { calls: number }) => n + r.calls, 0));
  });
});

describe("tracking settings", () => {
  it("are for admins; marketers may read them; agents get 403", async () => {
    const agent = (await svc.signIn("agent")).token;
    const marketer = (await svc.signIn("marketer")).token;
    await authed(agent).post("/api/tracking/numbers", { number: "+15005550500", source: "x" }).expect(403);
    await authed(marketer).post("/api/tracking/pools", { name: "m" }).expect(403);
    await authed(agent).get("/api/tracking/numbers").expect(403);
    const list = await authed(marketer).get("/api/tracking/numbers").expect(200);
    expect(list.body.items.map((n: { number: string }) => n.number)).toEqual(expect.arrayContaining([STATIC_NUMBER, POOL_NUMBER]));
    await svc.http.get("/api/tracking/pools").expect(401);
  });

  it("validate numbers, refuse duplicates and unknown fields, and audit each change", async () => {
    const a = authed(admin);
    expect((await a.post("/api/tracking/numbers", { number: "garbage", source: "x" }).expect(400)).body.error.code).toBe("validation_failed");
    expect((await a.post("/api/tracking/numbers", { number: "+15005550501" }).expect(400)).body.error.code).toBe("validation_failed");
    expect((await a.post("/api/tracking/numbers", { number: "+15005550501", source: "x", owner: "me" }).expect(400)).body.error.code).toBe("validation_failed");
    expect((await a.post("/api/tracking/numbers", { number: "(500) 555-0401", source: "dup" }).expect(409)).body.error.code).toBe("conflict");
    const created = await a.post("/api/tracking/numbers", { number: "(500) 555-0502", source: "radio" }).expect(201);
    expect(created.body).toMatchObject({ number: "+15005550502", pool: null, source: "radio", isActive: true });
    const retired = await svc.http.delete(`/api/tracking/numbers/${created.body.id}`).set("authorization", `Bearer ${admin}`).expect(200);
    expect(retired.body.isActive).toBe(false);
    const audit = await svc.container.ds.query(`SELECT action, before, after FROM audit_log WHERE entity = 'tracking_number' AND entity_id = $1 ORDER BY id`, [created.body.id]);
    expect(audit.map((r: { action: string }) => r.action)).toEqual(["create", "update"]);
    expect(audit[1].before.isActive).toBe(true);
    expect(audit[1].after.isActive).toBe(false);

    const pools = await a.get("/api/tracking/pools").expect(200);
    const web = pools.body.items.find((p: { name: string }) => p.name === "web");
    expect(web).toMatchObject({ overflowNumber: OVERFLOW, holdMinutes: 30, size: 1 });
    const patched = await svc.http.patch(`/api/tracking/pools/${web.id}`).set("authorization", `Bearer ${admin}`).send({ holdMinutes: 45, overflowNumber: null }).expect(200);
    expect(patched.body).toMatchObject({ holdMinutes: 45, overflowNumber: null });
    await svc.http.patch(`/api/tracking/pools/${web.id}`).set("authorization", `Bearer ${admin}`).send({ holdMinutes: 0 }).expect(400);
    await svc.http.patch(`/api/tracking/pools/${web.id}`).set("authorization", `Bearer ${admin}`).send({ overflowNumber: OVERFLOW }).expect(200);
  });
});
