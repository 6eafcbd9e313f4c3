import { startTestService, type TestService } from "../support/test-service";
import { dialResult, drainInbox, legStatuses, newCall, parentStatus, postSigned, sid, voice, type CallScript, type Delivery } from "../support/twilio";

let svc: TestService;
let supervisor: string;
let a: { userId: string; token: string };
let b: { userId: string; token: string };
const q = (sql: string, params: unknown[] = []) => svc.container.ds.query(sql, params);
const get = (path: string, token = supervisor) => svc.http.get(path).set("authorization", `Bearer ${token}`);

/** A call that rings the given agents; `answeredBy` picks up (42 s), the others do not. */
function callDeliveries(c: CallScript, rung: string[], answeredBy?: string): Delivery[] {
  const out: Delivery[] = [voice(c)];
  let answeredLeg: string | undefined;
  for (const target of rung) {
    const leg = sid("CA");
    if (target === answeredBy) answeredLeg = leg;
    out.push(...legStatuses(c, leg, target, target === answeredBy ? ["initiated", "ringing", "in-progress", "completed"] : ["initiated", "ringing", "no-answer"]));
  }
  out.push(answeredLeg ? dialResult(c, "completed", { DialCallSid: answeredLeg, DialCallDuration: "42", DialBridged: "true" }) : dialResult(c, "no-answer", { DialBridged: "false" }));
  out.push(parentStatus(c, "completed", { CallDuration: "50" }));
  return out;
}

async function play(deliveries: Delivery[]) {
  for (const d of deliveries) expect((await postSigned(svc, d)).status).toBeLessThan(300);
  await drainInbox(svc);
}

// The legs' callbacks carry timestamps an hour back (see legStatuses): a period from two days back covers them,
// and one to tomorrow a run that crosses midnight UTC.
const until = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
const since = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  svc = await startTestService({ role: "web" });
  supervisor = (await svc.signIn("supervisor")).token;
  a = await svc.signIn("agent", { dialTarget: "client:rep-a" });
  b = await svc.signIn("agent", { dialTarget: "client:rep-b" });
  await q(`UPDATE users SET name = 'A' WHERE id = $1`, [a.userId]);
  await q(`UPDATE users SET name = 'B' WHERE id = $1`, [b.userId]);
  // 1: answered by A while B rang; 2: missed by both; 3: the call back of 2, answered by B;
  // 4: missed, its call-back still open; 5: missed from a withheld number (no task possible).
  await play(callDeliveries(newCall("+14155550971"), ["client:rep-a", "client:rep-b"], "client:rep-a"));
  await play(callDeliveries(newCall("+14155550972"), ["client:rep-a", "client:rep-b"]));
  await play(callDeliveries(newCall("+14155550972"), ["client:rep-b"], "client:rep-b"));
  await play(callDeliveries(newCall("+14155550973"), ["client:rep-a"]));
  await play(callDeliveries(newCall("anonymous"), ["client:rep-a"]));
});
afterAll(async () => svc?.close());

describe("GET /api/reports/agents", () => {
  it("counts per agent what a hand count gives", async () => {
    const res = await get(`/api/reports/agents?from=${since}&to=${until}`).expect(200);
    const row = (id: string) => res.body.items.find((r: { agentId: string }) => r.agentId === id);
    // A: answered call 1; rung without answering on calls 2, 4 and 5 (the withheld one).
    expect(row(a.userId)).toMatchObject({ name: "A", answered: 1, missedWhileRung: 3, avgHandleSec: 42, callBacksDone: 0, callBacksWithinSla: 0 });
    // B: answered call 3 (closing 2's call-back within its SLA); rung without answering on calls 1 and 2.
    expect(row(b.userId)).toMatchObject({ name: "B", answered: 1, missedWhileRung: 2, avgHandleSec: 42, callBacksDone: 1, callBacksWithinSla: 1 });
    expect(row(b.userId).medianTimeToCallBackSec).toBeGreaterThanOrEqual(0);
    await get(`/api/reports/agents`, a.token).expect(403);
  });
});

describe("GET /api/reports/missed-calls", () => {
  it("follows each missed call to its call-back: within SLA, late, never, open", async () => {
    const res = await get(`/api/reports/missed-calls?from=${since}&to=${until}`).expect(200);
    // Missed: call 2 (called back in time by call 3), call 4 (still open), call 5 (withheld: never).
    expect(res.body.items).toEqual([{ missed: 3, withinSla: 1, late: 0, never: 1, open: 1 }]);
    // The call-back was late: past its due time when it closed.
    await q(`UPDATE tasks SET due_at = completed_at - interval '1 minute' WHERE status = 'done'`);
    const late = await get(`/api/reports/missed-calls?from=${since}&to=${until}&format=csv`).expect(200);
    expect(late.text.trim().split("\n")).toEqual(["missed,withinSla,late,never,open", "3,0,1,1,1"]);
  });
});

describe("GET /api/reports/funnel", () => {
  it("counts the deals that reached each stage, skipped stages included", async () => {
    const deals = (await get(`/api/deals`).expect(200)).body.items;
    expect(deals).toHaveLength(3);
    const stages = (await get(`/api/pipelines`).expect(200)).body.items[0].stages;
    const stage = (name: string) => stages.find((s: { name: string }) => s.name === name).id;
    await svc.http.patch(`/api/deals/${deals[0].id}`).set("authorization", `Bearer ${supervisor}`).send({ stageId: stage("Qualified") }).expect(200);
    await svc.http.patch(`/api/deals/${deals[1].id}`).set("authorization", `Bearer ${supervisor}`).send({ stageId: stage("Won"), amount: 500 }).expect(200);
    const res = await get(`/api/reports/funnel?from=${since}&to=${until}`).expect(200);
    expect(res.body.deals).toBe(3);
    expect(res.body.items.map((r: { stage: string; deals: number; conversion: number }) => [r.stage, r.deals, r.conversion])).toEqual([
      ["New lead", 3, 1],
      ["Qualified", 2, 0.6667],
      ["Proposal", 1, 0.3333],
      ["Negotiation", 1, 0.3333],
      ["Won", 1, 0.3333],
      ["Lost", 0, 0],
    ]);
    await get(`/api/reports/funnel?pipelineId=00000000-0000-4000-8000-000000000000`).expect(404);
    await get(`/api/reports/funnel`, (await svc.signIn("marketer")).token).expect(200);
    await get(`/api/reports/funnel`, a.token).expect(403);
  });
});
