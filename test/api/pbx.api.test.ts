import { randomBytes } from "node:crypto";
import { signStandardWebhook } from "../../src/webhooks";
import { startTestService, type TestService } from "../support/test-service";
import { waitFor } from "../support/wait-for";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
let svc: TestService;
let agent: { userId: string; email: string };

beforeAll(async () => {
  svc = await startTestService({ env: { PBX_WEBHOOK_SECRET: SECRET } });
  agent = await svc.signIn("agent", { dialTarget: "sip:101@pbx.example.test" });
});
afterAll(async () => svc?.close());

const q = (sql: string, params: unknown[] = []) => svc.container.ds.query(sql, params);

function post(event: object, opts: { id?: string; at?: Date; secret?: string; body?: string; contentType?: string } = {}) {
  const id = opts.id ?? `msg_${randomBytes(8).toString("hex")}`;
  const at = opts.at ?? new Date();
  const body = opts.body ?? JSON.stringify(event);
  return svc.http
    .post("/webhooks/pbx")
    .set("content-type", opts.contentType ?? "application/json")
    .set("webhook-id", id)
    .set("webhook-timestamp", String(Math.floor(at.getTime() / 1000)))
    .set("webhook-signature", signStandardWebhook(opts.secret ?? SECRET, id, at, body))
    .send(body);
}

const event = (callId: string, type: string, extra: object = {}) => ({
  eventId: `${callId}-${type}`,
  callId,
  type,
  direction: "inbound",
  from: "+14155550142",
  to: "+15005550100",
  occurredAt: new Date().toISOString(),
  ...extra,
});

const applied = () => waitFor(async () => (await q(`SELECT 1 FROM inbox WHERE status IN ('pending','deferred')`)).length === 0, { what: "inbox applied" });

describe("POST /webhooks/pbx", () => {
  it("ringing → answered → ended → recording: an answered call by the named agent, with its recording", async () => {
    const callId = `pbx-${randomBytes(4).toString("hex")}`;
    await post(event(callId, "ringing", { callerName: "Ada Lovelace" })).expect(204);
    await post(event(callId, "answered", { agent: agent.email })).expect(204);
    await post(event(callId, "ended", { durationSec: 93 })).expect(204);
    await post(event(callId, "recording", { recording: { id: "rec-1", url: "https://pbx.example.test/rec/1.wav", durationSec: 90, channels: 2 } })).expect(204);
    await applied();
    const [call] = await q(`SELECT * FROM calls WHERE provider = 'pbx' AND provider_call_id = $1`, [callId]);
    expect(call).toMatchObject({ status: "completed", outcome: "answered", answered_by: agent.userId, duration_sec: 93 });
    expect(await q(`SELECT name FROM contacts WHERE id = $1`, [call.contact_id])).toEqual([{ name: "Ada Lovelace" }]);
    expect(await q(`SELECT provider_recording_id, duration_sec FROM recordings WHERE call_id = $1`, [call.id])).toEqual([{ provider_recording_id: "rec-1", duration_sec: 90 }]);
  });

  it("a ringing event that names an agent pops that agent", async () => {
    const callId = `pbx-${randomBytes(4).toString("hex")}`;
    await post(event(callId, "ringing", { from: "+14155550144", agent: agent.email })).expect(204);
    await applied();
    const [call] = await q(`SELECT id FROM calls WHERE provider_call_id = $1`, [callId]);
    expect(await q(`SELECT payload->'userIds' AS users FROM outbox WHERE topic = 'screen-pop' AND payload->>'callId' = $1`, [call.id])).toEqual([{ users: [agent.userId] }]);
  });

  it("an unanswered call is missed and opens a call-back task", async () => {
    const callId = `pbx-${randomBytes(4).toString("hex")}`;
    await post(event(callId, "ringing", { from: "+14155550143" })).expect(204);
    await post(event(callId, "ended", { from: "+14155550143", answered: false, durationSec: 20 })).expect(204);
    await applied();
    const [call] = await q(`SELECT outcome, contact_id FROM calls WHERE provider_call_id = $1`, [callId]);
    expect(call.outcome).toBe("missed");
    expect(await q(`SELECT type, status FROM tasks WHERE contact_id = $1`, [call.contact_id])).toEqual([{ type: "call_back", status: "open" }]);
  });

  it("a redelivery with the same webhook-id answers 204 and changes nothing", async () => {
    const callId = `pbx-${randomBytes(4).toString("hex")}`;
    const e = event(callId, "ringing");
    await post(e, { id: "msg_same_id_1" }).expect(204);
    await post({ ...e, from: "+19995550000" }, { id: "msg_same_id_1" }).expect(204);
    expect(await q(`SELECT count(*)::int AS n FROM inbox WHERE delivery_key = 'pbx:msg_same_id_1'`)).toEqual([{ n: 1 }]);
  });

  it("refuses a wrong secret or a stale timestamp with 403 and writes nothing", async () => {
    const before = (await q(`SELECT count(*)::int AS n FROM inbox`))[0].n;
    await post(event("x", "ringing"), { secret: "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY" }).expect(403);
    await post(event("x", "ringing"), { at: new Date(Date.now() - 6 * 60_000) }).expect(403);
    await svc.http.post("/webhooks/pbx").set("content-type", "application/json").send(event("x", "ringing")).expect(403);
    expect((await q(`SELECT count(*)::int AS n FROM inbox`))[0].n).toBe(before);
  });

  it("refuses signed bad input with 400 and writes nothing: malformed JSON, unknown fields, bad type", async () => {
    const before = (await q(`SELECT count(*)::int AS n FROM inbox`))[0].n;
    const bad = await post({}, { body: '{"callId": ' }).expect(400);
    expect(bad.body.error.code).toBe("malformed_json");
    const unknown = await post({ ...event("y", "ringing"), admin: true }).expect(400);
    expect(unknown.body.error.code).toBe("validation_failed");
    await post(event("y", "teleported")).expect(400);
    await post(event("y", "ringing"), { contentType: "text/plain" }).expect(415);
    expect((await q(`SELECT count(*)::int AS n FROM inbox`))[0].n).toBe(before);
  });

  it("answers 413 above 64 kB", async () => {
    await post(event("z", "ringing", { callerName: "x".repeat(70 * 1024) })).expect(413);
  });
});

describe("POST /webhooks/pbx without PBX_WEBHOOK_SECRET", () => {
  it("answers 503 with a clear message", async () => {
    const other = await startTestService();
    try {
      const res = await other.http.post("/webhooks/pbx").set("content-type", "application/json").send("{}").expect(503);
      expect(res.body.error.message).toContain("PBX_WEBHOOK_SECRET");
    } finally {
      await other.close();
    }
  });
});
