import { randomUUID } from "node:crypto";
import { signCallRail, signStandardWebhook } from "../../src/webhooks";
import { startTestService, type TestService } from "../support/test-service";
import { drainInbox, newCall, postSigned, voice, type CallScript } from "../support/twilio";
import { waitFor } from "../support/wait-for";

const GENERIC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const CALLRAIL_KEY = "callrail-signing-key-0123456789";
const TWILIO_NUMBER = "+15005550100";
const POOL_NUMBER = "+15005550702";

let svc: TestService;
let n = 0;
const nextCaller = () => `+1415555${String(7000 + ++n)}`;
const q = (sql: string, params: unknown[] = []) => svc.container.ds.query(sql, params);

function postGeneric(event: Record<string, unknown>, opts: { id?: string; secret?: string } = {}) {
  const body = JSON.stringify(event);
  const id = opts.id ?? `msg_${randomUUID()}`;
  const at = new Date();
  return svc.http
    .post("/webhooks/tracking/generic")
    .set("content-type", "application/json")
    .set("webhook-id", id)
    .set("webhook-timestamp", String(Math.floor(at.getTime() / 1000)))
    .set("webhook-signature", signStandardWebhook(opts.secret ?? GENERIC_SECRET, id, at, body))
    .send(body);
}

function postCallRail(event: Record<string, unknown>, opts: { key?: string } = {}) {
  const body = JSON.stringify(event);
  return svc.http.post("/webhooks/tracking/callrail").set("content-type", "application/json").set("signature", signCallRail(opts.key ?? CALLRAIL_KEY, body)).send(body);
}

async function ring(c: CallScript) {
  expect((await postSigned(svc, voice(c))).status).toBe(200);
  await drainInbox(svc);
}

async function attributionsOf(c: CallScript) {
  return q(
    `SELECT a.id, a.is_primary, a.method, a.provider, a.confidence::float8 AS confidence, a.source, a.medium, a.campaign, a.keyword, a.click_id
     FROM call_attributions a JOIN calls c ON c.id = a.call_id WHERE c.provider_call_id = $1 ORDER BY a.is_primary DESC, a.created_at`,
    [c.callSid],
  );
}

const inboxCount = async () => Number((await q(`SELECT count(*)::int AS n FROM inbox`))[0].n);

beforeAll(async () => {
  svc = await startTestService({ role: "web", env: { TRACKING_WEBHOOK_SECRET: GENERIC_SECRET, CALLRAIL_WEBHOOK_SECRET: CALLRAIL_KEY } });
  const admin = (await svc.signIn("admin")).token;
  await svc.http.post("/api/tracking/numbers").set("authorization", `Bearer ${admin}`).send({ number: POOL_NUMBER, pool: "web" }).expect(201);
});
afterAll(async () => svc?.close());

describe("POST /webhooks/tracking/generic", () => {
  it("a report that arrives before the call becomes the call's primary attribution when the call rings", async () => {
    const caller = nextCaller();
    await postGeneric({ callId: "trk-1", caller, trackingNumber: TWILIO_NUMBER, startedAt: new Date().toISOString(), source: "google", medium: "cpc", campaign: "fall", keyword: "cheap widgets", clickId: "G-9", clickIdType: "gclid" }).expect(204);
    await drainInbox(svc);
    expect(await q(`SELECT call_id FROM tracking_provider_calls WHERE provider_call_id = 'trk-1'`)).toEqual([{ call_id: null }]);

    const call = newCall(caller, TWILIO_NUMBER);
    await ring(call);
    const [a] = await attributionsOf(call);
    expect(a).toMatchObject({ is_primary: true, method: "provider", provider: "generic", confidence: 1, source: "google", keyword: "cheap widgets", click_id: "G-9" });
    const [{ call_id }] = await q(`SELECT call_id FROM tracking_provider_calls WHERE provider_call_id = 'trk-1'`);
    const [contact] = await q(`SELECT c.first_touch_attribution_id FROM contacts c JOIN calls k ON k.contact_id = c.id WHERE k.id = $1`, [call_id]);
    expect(contact.first_touch_attribution_id).toBe(a.id);
  });

  it("a report that arrives after the call takes over as primary and keeps our own attribution as a candidate", async () => {
    const session = (await svc.http.post("/api/tracking/sessions").send({ pool: "web", landingPage: "https://shop.example.com/?utm_source=bing&utm_term=old" }).expect(200)).body;
    expect(session.number).toBe(POOL_NUMBER);
    const caller = nextCaller();
    const call = newCall(caller, POOL_NUMBER);
    await ring(call);
    const [before] = await attributionsOf(call);
    expect(before).toMatchObject({ method: "session", source: "bing", keyword: "old" });

    await postGeneric({ callId: "trk-2", caller, trackingNumber: POOL_NUMBER, startedAt: new Date().toISOString(), source: "newsletter", keyword: "new" }).expect(204);
    await drainInbox(svc);
    const after = await attributionsOf(call);
    expect(after).toEqual([
      expect.objectContaining({ id: before.id, is_primary: true, method: "provider", source: "newsletter", keyword: "new" }),
      expect.objectContaining({ is_primary: false, method: "session", source: "bing", keyword: "old" }),
    ]);
    const [reportColumns] = await q(`SELECT attr_source, attr_keyword FROM calls WHERE provider_call_id = $1`, [call.callSid]);
    expect(reportColumns).toEqual({ attr_source: "newsletter", attr_keyword: "new" });
    // The deal the call opened still points at the primary row, and its copy of the labels followed.
    const deals = await q(`SELECT d.attribution_id, d.attr_source, d.attr_medium, d.attr_keyword FROM deals d JOIN calls c ON c.id = d.source_call_id WHERE c.provider_call_id = $1`, [
      call.callSid,
    ]);
    expect(deals).toEqual([{ attribution_id: before.id, attr_source: "newsletter", attr_medium: null, attr_keyword: "new" }]);
  });

  it("matches by the telephony call id when the tracker knows it, whatever the numbers say", async () => {
    const call = newCall(nextCaller(), TWILIO_NUMBER);
    await ring(call);
    await postGeneric({ callId: "trk-3", telephonyCallId: call.callSid, trackingNumber: "+15005550999", startedAt: new Date(Date.now() - 3600_000).toISOString(), source: "radio" }).expect(204);
    await drainInbox(svc);
    expect((await attributionsOf(call))[0]).toMatchObject({ method: "provider", source: "radio" });
  });

  it("does not match a call from the same caller outside the time window", async () => {
    const caller = nextCaller();
    const call = newCall(caller, TWILIO_NUMBER);
    await ring(call);
    await postGeneric({ callId: "trk-4", caller, trackingNumber: TWILIO_NUMBER, startedAt: new Date(Date.now() - 2 * 3600_000).toISOString(), source: "tv" }).expect(204);
    await drainInbox(svc);
    expect(await attributionsOf(call)).toEqual([]);
    expect(await q(`SELECT call_id FROM tracking_provider_calls WHERE provider_call_id = 'trk-4'`)).toEqual([{ call_id: null }]);
  });

  it("a report still being applied when its call arrives is not missed: the call waits for it", async () => {
    const caller = nextCaller();
    const call = newCall(caller, TWILIO_NUMBER);
    expect((await postSigned(svc, voice(call))).status).toBe(200);
    const [voiceRow] = await q(`SELECT id FROM inbox WHERE status = 'pending' ORDER BY received_at DESC LIMIT 1`);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The report's transaction has stored the report (seeing no call yet) and has not committed.
    const report = svc.container.ds.transaction(async (em) => {
      const event = { callId: "trk-race", caller, trackingNumber: TWILIO_NUMBER, startedAt: new Date().toISOString(), source: "race" };
      await svc.container.tracking.providerCalls.apply(em, "generic", event, new Date());
      await held;
    });
    let callApplied = false;
    const applying = svc.container.inbox.process(voiceRow.id).then(() => (callApplied = true));
    // The call either finishes (missing the report) or waits on the report's lock.
    await waitFor(async () => callApplied || (await q(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)).length > 0);
    release();
    await report;
    await applying;
    expect((await attributionsOf(call))[0]).toMatchObject({ method: "provider", source: "race" });
  });

  it("answers a duplicate delivery like the first and changes nothing", async () => {
    const event = { callId: "trk-5", caller: nextCaller(), trackingNumber: TWILIO_NUMBER, startedAt: new Date().toISOString(), source: "x" };
    const before = await inboxCount();
    await postGeneric(event, { id: "msg_dup" }).expect(204);
    await postGeneric(event, { id: "msg_dup" }).expect(204);
    expect(await inboxCount()).toBe(before + 1);
  });

  it("refuses bad signatures, bad bodies and unknown providers with a 4xx, writing nothing", async () => {
    const before = await inboxCount();
    const ok = { callId: "trk-bad", trackingNumber: TWILIO_NUMBER, startedAt: new Date().toISOString() };
    expect((await postGeneric(ok, { secret: "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY" })).status).toBe(403);
    expect((await postGeneric({ ...ok, startedAt: "yesterday" })).body.error.code).toBe("validation_failed");
    expect((await postGeneric({ ...ok, admin: true })).status).toBe(400);
    expect((await postGeneric({ callId: "x" })).status).toBe(400);
    expect((await postCallRail({ id: "CAL1", start_time: new Date().toISOString() }, { key: "some-other-key-000000" })).status).toBe(403);
    expect((await svc.http.post("/webhooks/tracking/callrail").set("content-type", "application/json").send("{}")).status).toBe(403);
    expect((await svc.http.post("/webhooks/tracking/acme").set("content-type", "application/json").send("{}")).status).toBe(404);
    const garbage = "{not json";
    const res = await svc.http.post("/webhooks/tracking/callrail").set("content-type", "application/json").set("signature", signCallRail(CALLRAIL_KEY, garbage)).send(garbage);
    expect(res.body.error.code).toBe("malformed_json");
    expect(await inboxCount()).toBe(before);
    expect(await q(`SELECT count(*)::int AS n FROM tracking_provider_calls WHERE provider_call_id = 'trk-bad'`)).toEqual([{ n: 0 }]);
  });
});

describe("POST /webhooks/tracking/callrail", () => {
  it("merges CallRail's post-call webhook into the call it forwarded to us, and a call-modified one updates it", async () => {
    const caller = nextCaller();
    const call = newCall(caller, TWILIO_NUMBER);
    await ring(call);
    const postCall = {
      id: "CAL8154748ae6bd4e278a7cddd38a662f4f",
      answered: true,
      direction: "inbound",
      customer_phone_number: caller,
      tracking_phone_number: "+15005550777",
      business_phone_number: TWILIO_NUMBER,
      start_time: new Date().toISOString(),
      duration: 42,
      source: "Google Ads",
      medium: "CPC",
      campaign: "Spring Sale",
      keywords: "red shoes",
      landing_page_url: "https://shop.example.com/?gclid=abc",
      referring_url: "https://www.google.com/",
      gclid: "abc",
      first_call: true,
      recording: "https://app.callrail.com/calls/CAL815/recording",
      company_name: "Shop",
    };
    await postCallRail(postCall).expect(204);
    await drainInbox(svc);
    expect(await attributionsOf(call)).toEqual([
      expect.objectContaining({ is_primary: true, method: "provider", provider: "callrail", source: "Google Ads", medium: "CPC", campaign: "Spring Sale", keyword: "red shoes", click_id: "abc" }),
    ]);

    await postCallRail({ ...postCall, keywords: "red running shoes", tags: ["qualified"] }).expect(204);
    await drainInbox(svc);
    const rows = await attributionsOf(call);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ keyword: "red running shoes" });
  });

  it("ignores CallRail's outbound calls", async () => {
    await postCallRail({ id: "CALout", direction: "outbound", customer_phone_number: nextCaller(), start_time: new Date().toISOString() }).expect(204);
    await drainInbox(svc);
    expect(await q(`SELECT status FROM inbox WHERE source = 'tracking.callrail' AND payload->'event'->>'id' = 'CALout'`)).toEqual([{ status: "ignored" }]);
  });
});

describe("tracking webhooks without secrets", () => {
  let bare: TestService;
  beforeAll(async () => {
    bare = await startTestService({ role: "web" });
  });
  afterAll(async () => bare?.close());

  it("answer 503 with a clear message", async () => {
    const res = await bare.http.post("/webhooks/tracking/callrail").set("content-type", "application/json").send("{}").expect(503);
    expect(res.body.error.message).toContain("CALLRAIL_WEBHOOK_SECRET");
  });
});
