import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startTestService, TEST_TWILIO, type TestService } from "../support/test-service";
import { as } from "../support/http";
import { drainInbox, missedCallbacks, newCall, postSigned, sid, voice, type Params } from "../support/twilio";

const BASIC = `Basic ${Buffer.from(`${TEST_TWILIO.accountSid}:${TEST_TWILIO.authToken}`).toString("base64")}`;
const OUR_LINE = "+15005550100";
/** A number Twilio refuses (as its REST API does for an unreachable dial target). */
const REFUSED_TARGET = "client:refused";
/** A dial target for which the fake never answers (the connection drops). */
const RESET_TARGET = "client:reset";

/** A local stand-in for Twilio's Calls resource: remembers each request, answers like Twilio. */
interface Created {
  params: URLSearchParams;
  sid: string;
}
let fake: { server: Server; port: number; created: Created[] };

beforeAll(async () => {
  const created: Created[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      if (req.headers.authorization !== BASIC) return void res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ code: 20003, message: "Authenticate", status: 401 }));
      if (req.method !== "POST" || req.url !== `/2010-04-01/Accounts/${TEST_TWILIO.accountSid}/Calls.json`) return void res.writeHead(404).end();
      const params = new URLSearchParams(body);
      if (params.get("To") === RESET_TARGET) return void req.socket.destroy(); // no answer at all
      if (params.get("To") === REFUSED_TARGET) {
        return void res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ code: 21210, message: "'From' phone number not verified", status: 400 }));
      }
      const callSid = sid("CA");
      created.push({ params, sid: callSid });
      res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ sid: callSid, status: "queued", to: params.get("To"), from: params.get("From") }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake = { server, port: (server.address() as AddressInfo).port, created };
});
afterAll(() => new Promise((r) => fake?.server.close(r)));

let svc: TestService;
let agent: { token: string; userId: string };
let n = 0;
const nextNumber = () => `+1415556${String(1000 + ++n).padStart(4, "0")}`;
const q = (sql: string, params: unknown[] = []) => svc.container.ds.query(sql, params);

beforeAll(async () => {
  svc = await startTestService({ env: { TWILIO_API_BASE: `http://127.0.0.1:${fake.port}`, OUTBOUND_CALLER_ID: "+15005550199" } });
  agent = await svc.signIn("agent", { dialTarget: "client:caller" });
});
afterAll(async () => svc?.close());

/** A missed inbound call from a new number: a contact with an open call-back task of the agent's. */
async function missedCaller(): Promise<{ contactId: string; taskId: string; phone: string }> {
  const phone = nextNumber();
  const c = newCall(phone, OUR_LINE);
  await q(`UPDATE users SET presence = 'available' WHERE id = $1`, [agent.userId]);
  for (const d of [voice(c), ...missedCallbacks(c, "client:caller")]) expect((await postSigned(svc, d)).status).toBeLessThan(300);
  await drainInbox(svc);
  const [row] = await q(`SELECT t.id AS task_id, t.contact_id FROM tasks t JOIN calls c ON c.id = t.call_id WHERE c.provider_call_id = $1`, [c.callSid]);
  return { contactId: row.contact_id, taskId: row.task_id, phone };
}

/** What Twilio sends back for a placed call, step by step, to the URLs we gave it. */
function callbacks(created: Created) {
  const statusUrl = new URL(created.params.get("StatusCallback")!);
  const twiml = created.params.get("Twiml")!;
  const attr = (name: string) => new RegExp(`${name}="([^"]+)"`).exec(twiml)![1]!.replace(/&amp;/g, "&");
  const customerStatus = new URL(attr("statusCallback"));
  const customer = /<Number[^>]*>([^<]+)<\/Number>/.exec(twiml)![1]!;
  const agentLeg = created.sid;
  const customerLeg = sid("CA");
  const from = created.params.get("From")!;
  let agentSeq = 0;
  let customerSeq = 0;
  const path = (u: URL) => u.pathname + u.search;
  const post = (p: string, params: Params) => postSigned(svc, { path: p, params: { AccountSid: TEST_TWILIO.accountSid, ...params } }).then((r) => r);
  return {
    customer,
    callerId: from,
    ref: statusUrl.searchParams.get("c2c")!,
    agent: (status: string, extra: Params = {}) =>
      post(path(statusUrl), { CallSid: agentLeg, From: from, To: created.params.get("To")!, Direction: "outbound-api", CallStatus: status, SequenceNumber: String(agentSeq++), ...extra }),
    customerLeg: (status: string, extra: Params = {}) =>
      post(path(customerStatus), { CallSid: customerLeg, ParentCallSid: agentLeg, From: from, To: customer, Direction: "outbound-dial", CallStatus: status, SequenceNumber: String(customerSeq++), ...extra }),
    dialResult: (status: string, bridged: boolean) =>
      post(path(new URL(attr("action"))), { CallSid: agentLeg, From: from, To: created.params.get("To")!, CallStatus: "in-progress", DialCallStatus: status, DialCallSid: customerLeg, DialBridged: String(bridged), DialCallDuration: "75" }),
    recording: () =>
      post(path(new URL(attr("recordingStatusCallback"))), { CallSid: agentLeg, RecordingSid: sid("RE"), RecordingStatus: "completed", RecordingDuration: "75", RecordingChannels: "2", RecordingSource: "DialVerb" }),
  };
}

describe("POST /api/calls (click-to-call)", () => {
  it("rings the agent first, then bridges the customer; answered, it is one outbound call, recorded, that closes the call-back", async () => {
    const { contactId, taskId, phone } = await missedCaller();
    const res = await as(svc, agent.token).post("/api/calls", { contactId, taskId }).expect(201);
    expect(res.body).toMatchObject({ direction: "outbound", status: "ringing", from: OUR_LINE, to: phone, contactId, outcome: null });
    expect(res.body.providerCallId).toMatch(/^c2c:/);
    const placed = fake.created.at(-1)!;
    // Twilio was asked to ring the agent, showing the line the customer called us on; the TwiML bridges the customer.
    expect({ to: placed.params.get("To"), from: placed.params.get("From") }).toEqual({ to: "client:caller", from: OUR_LINE });
    expect(placed.params.get("Twiml")).toContain(`>${phone}</Number>`);
    expect(placed.params.get("Twiml")).toContain('record="record-from-answer-dual"');
    expect(await q(`SELECT call_attempts, status FROM tasks WHERE id = $1`, [taskId])).toEqual([{ call_attempts: 1, status: "open" }]);

    const cb = callbacks(placed);
    for (const s of ["initiated", "ringing", "in-progress"]) expect((await cb.agent(s)).status).toBe(204);
    await drainInbox(svc);
    // The agent picked up: not yet an answer (the customer has not), but the agent is busy.
    expect(await q(`SELECT status, outcome FROM calls WHERE id = $1`, [res.body.id])).toEqual([{ status: "ringing", outcome: null }]);
    expect(await q(`SELECT presence FROM users WHERE id = $1`, [agent.userId])).toEqual([{ presence: "busy" }]);

    for (const s of ["initiated", "ringing", "in-progress"]) expect((await cb.customerLeg(s)).status).toBe(204);
    await drainInbox(svc);
    expect(await q(`SELECT status, outcome, answered_by FROM calls WHERE id = $1`, [res.body.id])).toEqual([{ status: "in-progress", outcome: "answered", answered_by: agent.userId }]);

    expect((await cb.customerLeg("completed", { CallDuration: "75" })).status).toBe(204);
    const dial = await cb.dialResult("completed", true);
    expect(dial.text).toContain("<Hangup/>");
    expect((await cb.agent("completed", { CallDuration: "90" })).status).toBe(204);
    expect((await cb.recording()).status).toBe(204);
    await drainInbox(svc);

    const call = (await as(svc, agent.token).get(`/api/calls/${res.body.id}`).expect(200)).body;
    expect(call).toMatchObject({ direction: "outbound", status: "completed", outcome: "answered", answeredBy: agent.userId, durationSec: 75, recording: { status: "completed", durationSec: 75 } });
    expect(await q(`SELECT status, closed_by_call_id FROM tasks WHERE id = $1`, [taskId])).toEqual([{ status: "done", closed_by_call_id: res.body.id }]);
    expect(await q(`SELECT count(*)::int AS n FROM calls WHERE contact_id = $1 AND direction = 'outbound'`, [contactId])).toEqual([{ n: 1 }]);
    expect(await q(`SELECT presence FROM users WHERE id = $1`, [agent.userId])).toEqual([{ presence: "available" }]);
    const audit = await as(svc, (await svc.signIn("supervisor")).token).get(`/api/audit?entity=call&id=${res.body.id}`).expect(200);
    expect(audit.body.items).toContainEqual(expect.objectContaining({ action: "place", actor: expect.objectContaining({ id: agent.userId }) }));
  });

  it("not answered: the call is a missed outbound call, no new call-back task, and the task stays open with the attempt counted", async () => {
    const { contactId, taskId } = await missedCaller();
    const res = await as(svc, agent.token).post("/api/calls", { taskId }).expect(201);
    expect(res.body.contactId).toBe(contactId);
    const cb = callbacks(fake.created.at(-1)!);
    for (const s of ["initiated", "ringing", "in-progress"]) await cb.agent(s);
    for (const s of ["initiated", "ringing", "no-answer"]) await cb.customerLeg(s);
    expect((await cb.dialResult("no-answer", false)).text).toContain("<Hangup/>");
    await cb.agent("completed", { CallDuration: "35" });
    await drainInbox(svc);
    expect(await q(`SELECT status, outcome, missed_reason, answered_by FROM calls WHERE id = $1`, [res.body.id])).toEqual([
      { status: "completed", outcome: "missed", missed_reason: "no-answer", answered_by: null },
    ]);
    expect(await q(`SELECT status, call_attempts, attempts FROM tasks WHERE contact_id = $1`, [contactId])).toEqual([{ status: "open", call_attempts: 1, attempts: 1 }]);
    expect(await q(`SELECT presence FROM users WHERE id = $1`, [agent.userId])).toEqual([{ presence: "available" }]);
  });

  it("the agent not picking up ends the call as missed", async () => {
    const res = await as(svc, agent.token).post("/api/calls", { to: nextNumber() }).expect(201);
    const cb = callbacks(fake.created.at(-1)!);
    for (const s of ["initiated", "ringing", "no-answer"]) await cb.agent(s);
    await drainInbox(svc);
    expect(await q(`SELECT status, outcome, missed_reason FROM calls WHERE id = $1`, [res.body.id])).toEqual([{ status: "completed", outcome: "missed", missed_reason: "no-answer" }]);
  });

  it("a number typed in becomes a contact, shown OUTBOUND_CALLER_ID when they never called us", async () => {
    const res = await as(svc, agent.token).post("/api/calls", { to: "(415) 555-7000" }).expect(201);
    expect(res.body).toMatchObject({ to: "+14155557000", from: "+15005550199" });
    expect(res.body.contactId).toEqual(expect.any(String));
  });

  it("refuses what it cannot or must not call, and changes nothing", async () => {
    const before = await q(`SELECT count(*)::int AS n FROM calls`);
    const sent = fake.created.length;
    const a = as(svc, agent.token);
    await a.post("/api/calls", { to: "anonymous" }).expect(400);
    await a.post("/api/calls", { to: "12" }).expect(400);
    await a.post("/api/calls", { to: "+15005550199" }).expect(400); // our own caller id
    await a.post("/api/calls", {}).expect(400);
    await a.post("/api/calls", { to: "+14155550000", contactId: "00000000-0000-4000-8000-000000000000" }).expect(400);
    await a.post("/api/calls", { to: "+14155550000", extra: 1 }).expect(400);
    await a.post("/api/calls", { contactId: "00000000-0000-4000-8000-000000000000" }).expect(404);
    const noTarget = await svc.signIn("agent");
    const r = await as(svc, noTarget.token).post("/api/calls", { to: "+14155550000" }).expect(422);
    expect(r.body.error.message).toMatch(/dial target/);
    await as(svc, (await svc.signIn("marketer")).token).post("/api/calls", { to: "+14155550000" }).expect(403);
    // Another agent's task, and a task already done.
    const { taskId } = await missedCaller();
    const other = await svc.signIn("agent", { dialTarget: "client:other" });
    await as(svc, other.token).post("/api/calls", { taskId }).expect(403);
    await q(`UPDATE tasks SET status = 'done' WHERE id = $1`, [taskId]);
    await a.post("/api/calls", { taskId }).expect(409);
    expect(fake.created.length).toBe(sent);
    expect(await q(`SELECT count(*)::int AS n FROM calls`)).toEqual([{ n: before[0].n + 1 }]); // missedCaller's own inbound call
  });

  it("a refusal from Twilio comes back as a clear 502; the call ends failed and the task keeps its count", async () => {
    const { taskId } = await missedCaller();
    const refused = await svc.signIn("agent", { dialTarget: REFUSED_TARGET });
    await q(`UPDATE tasks SET assignee_id = $2 WHERE id = $1`, [taskId, refused.userId]);
    const res = await as(svc, refused.token).post("/api/calls", { taskId }).expect(502);
    expect(res.body.error).toMatchObject({ code: "bad_gateway", message: expect.stringContaining("21210") });
    expect(await q(`SELECT status, outcome, missed_reason FROM calls WHERE initiated_by = $1`, [refused.userId])).toEqual([
      { status: "completed", outcome: "missed", missed_reason: "failed" },
    ]);
    expect(await q(`SELECT status, call_attempts FROM tasks WHERE id = $1`, [taskId])).toEqual([{ status: "open", call_attempts: 0 }]);
  });

  it("no answer from Twilio: 502 saying it may have gone through, and the call stays ringing (no second call invited)", async () => {
    const unsure = await svc.signIn("agent", { dialTarget: RESET_TARGET });
    const res = await as(svc, unsure.token).post("/api/calls", { to: "+14155550142" }).expect(502);
    expect(res.body.error.message).toMatch(/may have gone through/);
    expect(await q(`SELECT status, outcome FROM calls WHERE initiated_by = $1`, [unsure.userId])).toEqual([{ status: "ringing", outcome: null }]);
  });

  it("refuses a task together with a number that is not its contact's", async () => {
    const { taskId } = await missedCaller();
    const res = await as(svc, agent.token).post("/api/calls", { taskId, to: "+14155550143" }).expect(400);
    expect(res.body.error.message).toMatch(/another contact/);
  });

  it("counts attempts in the metrics", async () => {
    const metrics = await svc.http.get("/metrics").expect(200);
    expect(metrics.text).toMatch(/outbound_call_attempts_total\{result="placed"\} [1-9]/);
    expect(metrics.text).toMatch(/outbound_call_attempts_total\{result="refused"\} [1-9]/);
    expect(metrics.text).toMatch(/outbound_call_attempts_total\{result="provider_error"\} 2/);
  });
});

describe("click-to-call limits and configuration", () => {
  let limited: TestService;
  afterAll(async () => limited?.close());

  it("stops a user at OUTBOUND_CALLS_PER_USER_PER_HOUR and everyone at OUTBOUND_CALLS_PER_HOUR", async () => {
    limited = await startTestService({
      env: { TWILIO_API_BASE: `http://127.0.0.1:${fake.port}`, OUTBOUND_CALLER_ID: "+15005550199", OUTBOUND_CALLS_PER_USER_PER_HOUR: "2", OUTBOUND_CALLS_PER_HOUR: "3" },
    });
    const one = await limited.signIn("agent", { dialTarget: "client:one" });
    const two = await limited.signIn("agent", { dialTarget: "client:two" });
    await as(limited, one.token).post("/api/calls", { to: "+14155551001" }).expect(201);
    await as(limited, one.token).post("/api/calls", { to: "+14155551002" }).expect(201);
    const mine = await as(limited, one.token).post("/api/calls", { to: "+14155551003" }).expect(429);
    expect(mine.body.error.message).toMatch(/2 calls in the last hour/);
    await as(limited, two.token).post("/api/calls", { to: "+14155551004" }).expect(201);
    const all = await as(limited, two.token).post("/api/calls", { to: "+14155551005" }).expect(429);
    expect(all.body.error.message).toMatch(/account/);
    expect(await limited.container.ds.query(`SELECT count(*)::int AS n FROM calls`)).toEqual([{ n: 3 }]);
  });

  it("answers 503 when Twilio is not configured", async () => {
    const bare = await startTestService({ role: "web", env: { TWILIO_ACCOUNT_SID: undefined, OUTBOUND_CALLER_ID: "+15005550199" } });
    try {
      const u = await bare.signIn("agent", { dialTarget: "client:x" });
      const res = await as(bare, u.token).post("/api/calls", { to: "+14155551001" }).expect(503);
      expect(res.body.error.code).toBe("provider_not_configured");
    } finally {
      await bare.close();
    }
  });
});
