import twilio from "twilio";
import { startTestService, type TestService } from "../support/test-service";
import {
  answeredCallbacks,
  dialResult,
  drainInbox,
  legStatuses,
  missedCallbacks,
  newCall,
  parentStatus,
  postSigned,
  recording,
  sid,
  voice,
  type Delivery,
} from "../support/twilio";
import { waitFor } from "../support/wait-for";

let svc: TestService;
let agent: { userId: string; target: string };
let n = 0;
const nextNumber = () => `+1415555${String(1000 + ++n).padStart(4, "0")}`;

beforeAll(async () => {
  svc = await startTestService();
  const a = await svc.signIn("agent", { dialTarget: "client:alice" });
  agent = { userId: a.userId, target: "client:alice" };
});
afterAll(async () => svc?.close());

beforeEach(async () => {
  await svc.container.ds.query(`UPDATE users SET presence = 'available' WHERE id = $1`, [agent.userId]);
});

async function send(deliveries: Delivery[]): Promise<void> {
  for (const d of deliveries) {
    const res = await postSigned(svc, d);
    expect([200, 204]).toContain(res.status);
  }
}

const q = (sql: string, params: unknown[] = []) => svc.container.ds.query(sql, params);
const callOf = async (callSid: string) => (await q(`SELECT * FROM calls WHERE provider_call_id = $1`, [callSid]))[0];

describe("voice webhook", () => {
  it("answers TwiML that rings the available agent with callbacks built from PUBLIC_URL", async () => {
    const c = newCall(nextNumber());
    const res = await postSigned(svc, voice(c)).expect(200);
    expect(res.headers["content-type"]).toMatch(/text\/xml/);
    expect(res.text).toContain('answerOnBridge="true"');
    expect(res.text).toContain('record="record-from-answer-dual"');
    expect(res.text).toContain('action="https://crm.example.test/webhooks/twilio/dial?stage=all"');
    expect(res.text).toContain('recordingStatusCallback="https://crm.example.test/webhooks/twilio/recording"');
    expect(res.text).toMatch(/<Client statusCallback="https:\/\/crm.example.test\/webhooks\/twilio\/status"[^>]*statusCallbackEvent="initiated ringing answered completed"[^>]*>alice<\/Client>/);
  });

  it("with nobody available, answers voicemail and the call is missed (no-agents → voicemail)", async () => {
    await q(`UPDATE users SET presence = 'away'`);
    const c = newCall(nextNumber());
    const res = await postSigned(svc, voice(c)).expect(200);
    expect(res.text).toContain("<Record");
    expect(res.text).toContain('recordingStatusCallback="https://crm.example.test/webhooks/twilio/recording?kind=voicemail"');
    await send([recording(c, sid("RE"), { RecordingSource: "RecordVerb" }, "?kind=voicemail"), parentStatus(c, "completed")]);
    await drainInbox(svc);
    const call = await callOf(c.callSid);
    expect(call).toMatchObject({ status: "completed", outcome: "missed", missed_reason: "voicemail" });
    expect(await q(`SELECT type, status, attempts FROM tasks WHERE contact_id = $1`, [call.contact_id])).toEqual([{ type: "call_back", status: "open", attempts: 1 }]);
  });

  it("a duplicate voice delivery gets the same TwiML and writes nothing", async () => {
    const c = newCall(nextNumber());
    const first = await postSigned(svc, voice(c)).expect(200);
    await q(`UPDATE users SET presence = 'away'`); // a recomputed answer would now differ
    const second = await postSigned(svc, voice(c)).expect(200);
    expect(second.text).toBe(first.text);
    expect(await q(`SELECT count(*)::int AS n FROM inbox WHERE delivery_key = $1`, [`twilio:voice:${c.callSid}`])).toEqual([{ n: 1 }]);
  });
});

describe("signatures and bad input", () => {
  it("refuses a missing or wrong signature with 403 and writes nothing", async () => {
    const c = newCall(nextNumber());
    const before = (await q(`SELECT count(*)::int AS n FROM inbox`))[0].n;
    await svc.http.post("/webhooks/twilio/status").type("form").send(parentStatus(c, "completed").params).expect(403);
    const res = await postSigned(svc, parentStatus(c, "completed"), { token: "not-the-token" }).expect(403);
    expect(res.body.error.code).toBe("bad_signature");
    // Signed for another URL (here: without the query string we received) is refused too.
    const d = parentStatus(c, "completed");
    const signature = twilio.getExpectedTwilioSignature("test-twilio-auth-token", `https://crm.example.test${d.path}`, d.params);
    await svc.http.post(`${d.path}?extra=1`).type("form").set("x-twilio-signature", signature).send(d.params).expect(403);
    expect((await q(`SELECT count(*)::int AS n FROM inbox`))[0].n).toBe(before);
  });

  it("a signed request without CallSid gets 400", async () => {
    const d = parentStatus(newCall(nextNumber()), "completed");
    delete d.params.CallSid;
    const res = await postSigned(svc, d).expect(400);
    expect(res.body.error.code).toBe("validation_failed");
  });

  it("a body over 64 kB gets 413", async () => {
    const d = parentStatus(newCall(nextNumber()), "completed", { Junk: "x".repeat(70 * 1024) });
    await postSigned(svc, d).expect(413);
  });

  it("an unknown status is stored and ignored safely", async () => {
    const c = newCall(nextNumber());
    await send([voice(c), parentStatus(c, "teleported")]);
    await drainInbox(svc);
    expect(await callOf(c.callSid)).toMatchObject({ status: "ringing", outcome: null });
    expect(await q(`SELECT provider_status FROM call_events e JOIN calls c ON c.id = e.call_id WHERE c.provider_call_id = $1 ORDER BY e.id`, [c.callSid])).toEqual([
      { provider_status: "ringing" },
      { provider_status: "teleported" },
    ]);
  });

  it("garbage and withheld caller ids are logged raw and never become contacts", async () => {
    for (const from of ["anonymous", "RESTRICTED", "", "not a number ☎"]) {
      const c = newCall(from);
      await send([voice(c), ...missedCallbacks(c, agent.target)]);
    }
    await drainInbox(svc);
    const rows = await q(`SELECT from_raw, contact_id, outcome FROM calls WHERE from_raw = ANY($1)`, [["anonymous", "RESTRICTED", "", "not a number ☎"]]);
    expect(rows).toHaveLength(4);
    expect(rows.every((r: { contact_id: string | null; outcome: string }) => r.contact_id === null && r.outcome === "missed")).toBe(true);
  });
});

describe("call flows", () => {
  it("answered: one contact, one call answered by the agent, a deal, a recording, no task", async () => {
    const from = nextNumber();
    const c = newCall(from);
    await send([voice(c, { CallerName: "SMITH  JOHN " }), ...answeredCallbacks(c, agent.target)]);
    await waitFor(async () => (await q(`SELECT 1 FROM inbox WHERE status IN ('pending','deferred')`)).length === 0, { what: "inbox applied by the queue" });
    const call = await callOf(c.callSid);
    expect(call).toMatchObject({ direction: "inbound", status: "completed", outcome: "answered", answered_by: agent.userId, missed_reason: null, from_e164: from, is_first_time_caller: true });
    expect(call.duration_sec).toBe(60);
    expect(await q(`SELECT name FROM contacts WHERE id = $1`, [call.contact_id])).toEqual([{ name: "SMITH JOHN" }]);
    expect(await q(`SELECT status, stage_id IS NOT NULL AS staged FROM deals WHERE contact_id = $1`, [call.contact_id])).toEqual([{ status: "open", staged: true }]);
    expect(call.deal_id).not.toBeNull();
    expect(await q(`SELECT status, duration_sec, channels FROM recordings WHERE call_id = $1`, [call.id])).toEqual([{ status: "completed", duration_sec: 40, channels: 2 }]);
    expect(await q(`SELECT 1 FROM tasks WHERE contact_id = $1`, [call.contact_id])).toEqual([]);
    expect(await q(`SELECT topic FROM outbox WHERE payload->>'callId' = $1 ORDER BY id`, [call.id])).toEqual(
      expect.arrayContaining([{ topic: "screen-pop" }, { topic: "call.update" }]),
    );
  });

  it("a caller's name that comes with an event applied after the call was made still names the contact", async () => {
    const c = newCall(nextNumber());
    await send([parentStatus(c, "completed", { CallDuration: "5" })]);
    await drainInbox(svc);
    await send([voice(c, { CallerName: "LATE  ARRIVAL" })]);
    await drainInbox(svc);
    const call = await callOf(c.callSid);
    expect(await q(`SELECT name FROM contacts WHERE id = $1`, [call.contact_id])).toEqual([{ name: "LATE ARRIVAL" }]);
    // A name someone gave the contact is never overwritten by a caller id.
    const d = newCall(nextNumber());
    await send([parentStatus(d, "completed", { CallDuration: "5" })]);
    await drainInbox(svc);
    const other = await callOf(d.callSid);
    await q(`UPDATE contacts SET name = 'Given Name' WHERE id = $1`, [other.contact_id]);
    await send([voice(d, { CallerName: "OTHER" })]);
    await drainInbox(svc);
    expect(await q(`SELECT name FROM contacts WHERE id = $1`, [other.contact_id])).toEqual([{ name: "Given Name" }]);
  });

  it("in progress as soon as an agent's leg answers (answerOnBridge: the parent leg says nothing yet)", async () => {
    const c = newCall(nextNumber());
    const leg = sid("CA");
    const [initiated, ringing, answered] = legStatuses(c, leg, agent.target, ["initiated", "ringing", "in-progress"]);
    await send([voice(c), initiated!, ringing!]);
    await drainInbox(svc);
    expect(await callOf(c.callSid)).toMatchObject({ status: "ringing", answered_by: null });
    await send([answered!]);
    await drainInbox(svc);
    expect(await callOf(c.callSid)).toMatchObject({ status: "in-progress", answered_by: agent.userId });
    const updates = await q(`SELECT payload->>'status' AS status FROM outbox WHERE topic = 'call.update' AND payload->>'callId' = (SELECT id::text FROM calls WHERE provider_call_id = $1)`, [c.callSid]);
    expect(updates).toContainEqual({ status: "in-progress" });
  });

  it.each(["no-answer", "busy"] as const)("%s: the call is missed and a call-back task is due after the SLA", async (how) => {
    const c = newCall(nextNumber());
    await send([voice(c), ...missedCallbacks(c, agent.target, how)]);
    await drainInbox(svc);
    const call = await callOf(c.callSid);
    expect(call).toMatchObject({ outcome: "missed", missed_reason: how, answered_by: null });
    const [task] = await q(`SELECT type, status, assignee_id, due_at, call_id, attempts FROM tasks WHERE contact_id = $1`, [call.contact_id]);
    expect(task).toMatchObject({ type: "call_back", status: "open", assignee_id: agent.userId, call_id: call.id, attempts: 1 });
    expect(new Date(task.due_at).getTime() - new Date(call.started_at).getTime()).toBe(15 * 60_000);
    expect(await q(`SELECT payload FROM outbox WHERE topic = 'task.assigned' AND payload->>'assigneeId' = $1`, [agent.userId])).not.toHaveLength(0);
  });

  it("abandoned: the caller hangs up while agents ring", async () => {
    const c = newCall(nextNumber());
    await send([voice(c), ...legStatuses(c, sid("CA"), agent.target, ["initiated", "ringing", "canceled"]), parentStatus(c, "completed", { CallDuration: "8" })]);
    await drainInbox(svc);
    expect(await callOf(c.callSid)).toMatchObject({ outcome: "missed", missed_reason: "abandoned" });
  });

  it("repeat miss: a second missed call bumps the open task instead of opening another", async () => {
    const from = nextNumber();
    const first = newCall(from);
    const second = newCall(from);
    await send([voice(first), ...missedCallbacks(first, agent.target), voice(second), ...missedCallbacks(second, agent.target)]);
    await drainInbox(svc);
    const { contact_id } = await callOf(first.callSid);
    const tasks = await q(`SELECT status, attempts, cardinality(missed_call_ids) AS misses FROM tasks WHERE contact_id = $1`, [contact_id]);
    expect(tasks).toEqual([{ status: "open", attempts: 2, misses: 2 }]);
    expect((await callOf(first.callSid)).is_first_time_caller).toBe(true);
    expect((await callOf(second.callSid)).is_first_time_caller).toBe(false);
    // The second call joins the deal the first one opened.
    const deals = await q(`SELECT id FROM deals WHERE contact_id = $1`, [contact_id]);
    expect(deals).toHaveLength(1);
    expect((await callOf(first.callSid)).deal_id).toBe(deals[0].id);
    expect((await callOf(second.callSid)).deal_id).toBe(deals[0].id);
  });

  it("a known contact's miss is a call-back for their owner, named after them, even when the miss comes in a later delivery", async () => {
    const owner = await svc.signIn("agent", { dialTarget: "client:owner-of-grace" });
    const from = nextNumber();
    const first = newCall(from);
    await send([voice(first), ...answeredCallbacks(first, agent.target)]);
    await drainInbox(svc);
    const { contact_id } = await callOf(first.callSid);
    await q(`UPDATE contacts SET name = 'Grace Hopper', owner_id = $2 WHERE id = $1`, [contact_id, owner.userId]);
    const missed = newCall(from);
    await send([voice(missed)]);
    await drainInbox(svc); // the call and its contact are applied first: the miss reads the contact anew
    await send(missedCallbacks(missed, agent.target));
    await drainInbox(svc);
    const tasks = await q(`SELECT title, assignee_id, call_id FROM tasks WHERE contact_id = $1 AND type = 'call_back'`, [contact_id]);
    expect(tasks).toEqual([{ title: "Call back Grace Hopper", assignee_id: owner.userId, call_id: (await callOf(missed.callSid)).id }]);
  });

  it("a later answered call closes the call-back task by itself, with time-to-callback", async () => {
    const from = nextNumber();
    const missed = newCall(from);
    await send([voice(missed), ...missedCallbacks(missed, agent.target)]);
    await drainInbox(svc);
    const back = newCall(from);
    await send([voice(back), ...answeredCallbacks(back, agent.target)]);
    await drainInbox(svc);
    const { contact_id } = await callOf(missed.callSid);
    const [task] = await q(`SELECT status, resolution, completed_by, time_to_callback_sec FROM tasks WHERE contact_id = $1`, [contact_id]);
    expect(task).toMatchObject({ status: "done", resolution: "reached", completed_by: agent.userId });
    expect(task.time_to_callback_sec).toBeGreaterThanOrEqual(0);
  });

  it("credits the call-back to the agent who answered even when their leg's callback comes after the dial result", async () => {
    const from = nextNumber();
    const missed = newCall(from);
    await send([voice(missed), ...missedCallbacks(missed, agent.target)]);
    await drainInbox(svc);
    const back = newCall(from);
    const deliveries = answeredCallbacks(back, agent.target);
    const dial = deliveries.find((d) => d.path.startsWith("/webhooks/twilio/dial"))!;
    await send([voice(back), dial]);
    await drainInbox(svc);
    await send(deliveries.filter((d) => d !== dial));
    await drainInbox(svc);
    const { contact_id, id } = await callOf(back.callSid);
    const [task] = await q(`SELECT status, completed_by, closed_by_call_id FROM tasks WHERE contact_id = $1`, [contact_id]);
    expect(task).toEqual({ status: "done", completed_by: agent.userId, closed_by_call_id: id });
  });

  it("outbound: an outbound-api call is logged outbound and matched to the callee's contact, closing its call-back", async () => {
    const customer = nextNumber();
    const missed = newCall(customer);
    await send([voice(missed), ...missedCallbacks(missed, agent.target)]);
    await drainInbox(svc);
    const out = { callSid: sid("CA"), from: "+15005550100", to: customer };
    const outbound = (status: string, extra = {}) => ({ ...parentStatus(out, status, extra), params: { ...parentStatus(out, status, extra).params, Direction: "outbound-api" } });
    await send([outbound("initiated"), outbound("ringing"), outbound("in-progress"), outbound("completed", { CallDuration: "30" })]);
    await drainInbox(svc);
    const call = await callOf(out.callSid);
    const { contact_id } = await callOf(missed.callSid);
    expect(call).toMatchObject({ direction: "outbound", contact_id, outcome: "answered", status: "completed" });
    expect(await q(`SELECT status FROM tasks WHERE contact_id = $1`, [contact_id])).toEqual([{ status: "done" }]);
  });

  it("our own number calling is never taken for a caller", async () => {
    const own = "+15005550100"; // received inbound calls above
    const c = newCall(own, "+15005550199");
    await send([voice(c), ...missedCallbacks(c, agent.target)]);
    await drainInbox(svc);
    expect((await callOf(c.callSid)).contact_id).toBeNull();
  });

  it("a recording that arrives before its call waits in the inbox and attaches when the call appears", async () => {
    const c = newCall(nextNumber());
    const rec = sid("RE");
    await send([recording(c, rec)]);
    await drainInbox(svc);
    expect(await q(`SELECT status FROM inbox WHERE delivery_key = $1`, [`twilio:recording:${rec}:completed`])).toEqual([{ status: "deferred" }]);
    await send([voice(c), ...answeredCallbacks(c, agent.target).slice(0, 6)]);
    await drainInbox(svc);
    const call = await callOf(c.callSid);
    expect(await q(`SELECT provider_recording_id FROM recordings WHERE call_id = $1 ORDER BY created_at`, [call.id])).toEqual([{ provider_recording_id: rec }]);
  });

  it("replayed ×5, a whole call makes one contact, one call, one deal, one task", async () => {
    const c = newCall(nextNumber());
    const all = [voice(c), ...missedCallbacks(c, agent.target)];
    for (let i = 0; i < 5; i++) await send(all);
    await drainInbox(svc);
    const call = await callOf(c.callSid);
    expect(await q(`SELECT count(*)::int AS n FROM calls WHERE provider_call_id = $1`, [c.callSid])).toEqual([{ n: 1 }]);
    expect(await q(`SELECT count(*)::int AS n FROM contact_phones WHERE e164 = $1`, [c.from])).toEqual([{ n: 1 }]);
    expect(await q(`SELECT count(*)::int AS n FROM deals WHERE contact_id = $1`, [call.contact_id])).toEqual([{ n: 1 }]);
    expect(await q(`SELECT attempts FROM tasks WHERE contact_id = $1`, [call.contact_id])).toEqual([{ attempts: 1 }]);
    expect(await q(`SELECT count(*)::int AS n FROM outbox WHERE topic = 'screen-pop' AND payload->>'callId' = $1`, [call.id])).toEqual([{ n: 1 }]);
  });

  it("20 concurrent first calls from one number make one contact, one deal, one task", async () => {
    const from = nextNumber();
    const calls = Array.from({ length: 20 }, () => newCall(from));
    await Promise.all(calls.map((c) => send([voice(c)])));
    await Promise.all(calls.map((c) => send(missedCallbacks(c, agent.target))));
    await drainInbox(svc);
    await waitFor(async () => (await q(`SELECT 1 FROM inbox WHERE status IN ('pending','deferred')`)).length === 0);
    const contacts = await q(`SELECT contact_id FROM contact_phones WHERE e164 = $1`, [from]);
    expect(contacts).toHaveLength(1);
    const contactId = contacts[0].contact_id;
    expect(await q(`SELECT count(*)::int AS n FROM calls WHERE contact_id = $1`, [contactId])).toEqual([{ n: 20 }]);
    expect(await q(`SELECT count(*)::int AS n FROM deals WHERE contact_id = $1`, [contactId])).toEqual([{ n: 1 }]);
    expect(await q(`SELECT attempts, status FROM tasks WHERE contact_id = $1`, [contactId])).toEqual([{ attempts: 20, status: "open" }]);
  });

  it("owner first: an available owner rings alone, then everyone else", async () => {
    const bob = await svc.signIn("agent", { dialTarget: "client:bob" });
    await q(`UPDATE users SET presence = 'available' WHERE id = $1`, [bob.userId]);
    const from = nextNumber();
    const first = newCall(from);
    await send([voice(first), ...answeredCallbacks(first, "client:alice")]);
    await drainInbox(svc);
    await q(`UPDATE contacts SET owner_id = $1 WHERE id = (SELECT contact_id FROM calls WHERE provider_call_id = $2)`, [bob.userId, first.callSid]);

    const c = newCall(from);
    const res = await postSigned(svc, voice(c)).expect(200);
    expect(res.text).toContain(`stage=owner&amp;owner=${bob.userId}`);
    expect(res.text).toContain(">bob</Client>");
    expect(res.text).not.toContain(">alice</Client>");
    const next = await postSigned(svc, dialResult(c, "no-answer", { DialBridged: "false" }, `owner&owner=${bob.userId}`)).expect(200);
    expect(next.text).toContain(">alice</Client>");
    expect(next.text).not.toContain(">bob</Client>");
    await drainInbox(svc);
    expect((await callOf(c.callSid)).outcome).toBeNull(); // the owner missing it is not a miss
    await q(`UPDATE users SET presence = 'away' WHERE id = $1`, [bob.userId]);
  });

  it("an available owner rings first even when more than ten agents have waited longer", async () => {
    const agents: Array<{ id: string; email: string }> = await q(
      `INSERT INTO users (email, name, role, password_hash, dial_target, presence, presence_changed_at)
       SELECT 'idle' || i || '@test.test', 'Idle ' || i, 'agent', 'x', 'client:idle' || i, 'available', now() - interval '1 hour'
       FROM generate_series(0, 10) AS i
       UNION ALL SELECT 'carol@test.test', 'Carol', 'agent', 'x', 'client:carol', 'available', now() RETURNING id, email`,
    );
    const carol = { userId: agents.find((a) => a.email === "carol@test.test")!.id };
    const from = nextNumber();
    const first = newCall(from);
    await send([voice(first), ...missedCallbacks(first, "client:idle0")]);
    await drainInbox(svc);
    await q(`UPDATE contacts SET owner_id = $1 WHERE id = (SELECT contact_id FROM calls WHERE provider_call_id = $2)`, [carol.userId, first.callSid]);

    const res = await postSigned(svc, voice(newCall(from))).expect(200);
    expect(res.text).toContain(`stage=owner&amp;owner=${carol.userId}`);
    expect(res.text).toContain(">carol</Client>");
    expect(res.text).not.toContain(">idle0</Client>");
    await q(`UPDATE users SET presence = 'away' WHERE id = ANY($1::uuid[])`, [agents.map((a) => a.id)]);
  });
});
