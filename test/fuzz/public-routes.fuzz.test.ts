import fc from "fast-check";
import twilio from "twilio";
import { signCallRail, signStandardWebhook } from "../../src/webhooks";
import { startTestService, TEST_PUBLIC_URL, TEST_TWILIO, type TestService } from "../support/test-service";

/**
 * Generated bad input against every public route: signed and unsigned webhooks, the website's
 * session route, login and the REST API with a valid token. Over 10,000 inputs in all: none may
 * get a 5xx, and an input that is refused (4xx) must leave the database untouched: every table's
 * row count and newest row version (xmin) are the same after it (this service runs the web role,
 * so no job writes meanwhile; the database is this file's own).
 */

const PBX_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const TRACKING_SECRET = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY";
const CALLRAIL_KEY = "callrail-signing-key-0123456789";

let svc: TestService;
let tokens: Record<"agent" | "supervisor" | "admin", string>;
let seen = 0;
let fingerprintSql = "";

beforeAll(async () => {
  svc = await startTestService({
    role: "web",
    env: { PBX_WEBHOOK_SECRET: PBX_SECRET, TRACKING_WEBHOOK_SECRET: TRACKING_SECRET, CALLRAIL_WEBHOOK_SECRET: CALLRAIL_KEY, TRACKING_SESSIONS_PER_MINUTE: "10000000" },
  });
  tokens = { agent: (await svc.signIn("agent")).token, supervisor: (await svc.signIn("supervisor")).token, admin: (await svc.signIn("admin")).token };
  await svc.http.post("/api/tracking/pools").set("authorization", `Bearer ${tokens.admin}`).send({ name: "web" }).expect(201);
  const tables: Array<{ name: string }> = await svc.container.ds.query(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
  fingerprintSql = tables
    .map((t) => `SELECT '${t.name}:' || count(*) || ':' || COALESCE(max(xmin::text::bigint), 0) AS f FROM "${t.name}"`)
    .join(" UNION ALL ");
}, 60_000);
afterAll(async () => {
  await svc?.close();
  // The promise of the issue: at least 10,000 generated inputs.
  expect(seen).toBeGreaterThanOrEqual(10_000);
});

/** Every table's row count and newest row version: any insert, update or delete changes it. */
const writes = async (): Promise<string> => (await svc.container.ds.query(fingerprintSql)).map((r: { f: string }) => r.f).join(",");

/** Sends one input; no 5xx ever; a refusal writes nothing. */
async function check(send: () => Promise<{ status: number; text?: string }>): Promise<void> {
  seen++;
  const before = await writes();
  const res = await send();
  if (res.status >= 500) throw new Error(`5xx (${res.status}): ${res.text?.slice(0, 300)}`);
  if (res.status >= 400) expect(await writes()).toBe(before);
}

// Values that stress parsers: empty, huge, control characters, unicode, numbers as strings, JSON-ish.
const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme", maxLength: 200 }),
  fc.constantFrom("", " ", "null", "undefined", "NaN", "-1", "1e309", "0x1F", "%00", "\u0000", "../../etc/passwd", "<img src=x onerror=alert(1)>", "' OR 1=1 --", "anonymous", "+", "client:", "sip:"),
  fc.integer().map(String),
  fc.string({ maxLength: 5000 }),
);
const json = fc.oneof(fc.jsonValue(), fc.dictionary(fc.string({ maxLength: 20 }), fc.jsonValue(), { maxKeys: 8 }));
const TWILIO_KEYS = ["CallSid", "AccountSid", "From", "To", "CallStatus", "Direction", "SequenceNumber", "ParentCallSid", "DialCallStatus", "DialCallSid", "DialBridged", "RecordingSid", "RecordingStatus", "RecordingDuration", "CallDuration", "Timestamp", "CallerName"];
const twilioParams = fc.dictionary(fc.oneof(fc.constantFrom(...TWILIO_KEYS), fc.string({ maxLength: 12 })), nasty, { maxKeys: 10 });
/** FUZZ_SCALE=10 npm test -- test/fuzz runs ten times as many inputs (a deeper search, off CI). */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const RUNS = Object.fromEntries(Object.entries({ twilio: 600, pbx: 1200, tracking: 1200, sessions: 1500, login: 1000, rest: 400 }).map(([k, n]) => [k, n * SCALE])) as Record<
  "twilio" | "pbx" | "tracking" | "sessions" | "login" | "rest",
  number
>;

describe("fuzzing every public route", () => {
  it("detects writes (so a silent one on a refusal would be caught)", async () => {
    const before = await writes();
    await svc.http.post("/api/contacts").set("authorization", `Bearer ${tokens.agent}`).send({ name: "Detector" }).expect(201);
    expect(await writes()).not.toBe(before);
  });

  it.each(["/webhooks/twilio/voice", "/webhooks/twilio/status", "/webhooks/twilio/dial", "/webhooks/twilio/recording"])("%s, signed and unsigned", async (path) => {
    await fc.assert(
      fc.asyncProperty(twilioParams, fc.boolean(), async (params, sign) => {
        const signature = sign ? twilio.getExpectedTwilioSignature(TEST_TWILIO.authToken, `${TEST_PUBLIC_URL}${path}`, params) : "forged";
        await check(() => svc.http.post(path).type("form").set("x-twilio-signature", signature).send(params));
      }),
      { numRuns: RUNS.twilio },
    );
  }, 120_000);

  it("/webhooks/pbx with signed junk", async () => {
    await fc.assert(
      fc.asyncProperty(json, fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/[\s.]/.test(s)), async (body, id) => {
        const text = JSON.stringify(body) ?? "null";
        const at = new Date();
        await check(() =>
          svc.http.post("/webhooks/pbx").set("content-type", "application/json").set("webhook-id", id).set("webhook-timestamp", String(Math.floor(at.getTime() / 1000)))
            .set("webhook-signature", signStandardWebhook(PBX_SECRET, id, at, text)).send(text),
        );
      }),
      { numRuns: RUNS.pbx },
    );
  }, 120_000);

  it("/webhooks/tracking/:provider with signed junk", async () => {
    await fc.assert(
      fc.asyncProperty(json, fc.constantFrom("generic", "callrail", "acme"), async (body, provider) => {
        const text = JSON.stringify(body) ?? "null";
        const at = new Date();
        const id = `msg_${seen}`;
        await check(() =>
          svc.http.post(`/webhooks/tracking/${provider}`).set("content-type", "application/json").set("signature", signCallRail(CALLRAIL_KEY, text))
            .set("webhook-id", id).set("webhook-timestamp", String(Math.floor(at.getTime() / 1000))).set("webhook-signature", signStandardWebhook(TRACKING_SECRET, id, at, text)).send(text),
        );
      }),
      { numRuns: RUNS.tracking },
    );
  }, 120_000);

  it("/api/tracking/sessions", async () => {
    const body = fc.oneof(json, fc.record({ pool: fc.oneof(fc.constant("web"), nasty), landingPage: nasty, referrer: fc.option(nasty, { nil: undefined }), sessionId: fc.option(fc.oneof(fc.uuid(), nasty), { nil: undefined }) }, { requiredKeys: [] }));
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        await check(() => svc.http.post("/api/tracking/sessions").set("content-type", "application/json").send(JSON.stringify(b) ?? "null"));
      }),
      { numRuns: RUNS.sessions },
    );
  }, 120_000);

  it("/api/auth/login", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(json, fc.record({ email: nasty, password: nasty }, { requiredKeys: [] })), async (b) => {
        await check(() => svc.http.post("/api/auth/login").set("content-type", "application/json").send(JSON.stringify(b) ?? "null"));
      }),
      { numRuns: RUNS.login },
    );
  }, 120_000);

  const REST: Array<[string, string]> = [
    ["post", "/api/contacts"],
    ["patch", "/api/contacts/{id}"],
    ["post", "/api/contacts/{id}/merge"],
    ["post", "/api/contacts/{id}/notes"],
    ["post", "/api/deals"],
    ["patch", "/api/deals/{id}"],
    ["patch", "/api/tasks/{id}"],
    ["put", "/api/calls/{id}/disposition"],
    ["post", "/api/users"],
    ["post", "/api/tracking/numbers"],
    ["post", "/api/tracking/pools"],
    ["get", "/api/contacts"],
    ["get", "/api/calls"],
    ["get", "/api/reports/agents"],
    ["get", "/api/inbox/deliveries"],
    ["post", "/api/inbox/deliveries/{id}/retry"],
  ];
  it.each(REST)("%s %s with a valid token", async (method, path) => {
    const id = fc.oneof(fc.uuid(), nasty.filter((s) => s.length > 0 && !s.includes("/") && !s.includes("?") && !s.includes("#")));
    await fc.assert(
      fc.asyncProperty(json, id, fc.dictionary(fc.string({ maxLength: 12 }), nasty, { maxKeys: 4 }), async (body, rawId, query) => {
        const url = path.replace("{id}", encodeURIComponent(rawId));
        const req = (svc.http as unknown as Record<string, (p: string) => import("supertest").Test>)[method]!(url).set("authorization", `Bearer ${tokens.admin}`);
        await check(() => (method === "get" ? req.query(query) : req.set("content-type", "application/json").send(JSON.stringify(body) ?? "null")));
      }),
      { numRuns: RUNS.rest },
    );
  }, 120_000);
});
