import fc from "fast-check";
import { startTestService, type TestService } from "../support/test-service";
import { answeredCallbacks, drainInbox, missedCallbacks, newCall, postSigned, voice, type CallScript, type Delivery } from "../support/twilio";

/**
 * Twilio promises no order: every permutation of one call's deliveries must end in the same
 * call record. The service runs as "web" (no job workers), so the inbox is applied exactly in
 * the shuffled arrival order by drainInbox.
 */
let svc: TestService;
let agentId: string;
let n = 0;

beforeAll(async () => {
  svc = await startTestService({ role: "web" });
  agentId = (await svc.signIn("agent", { dialTarget: "client:perm" })).userId;
  await svc.container.ds.query(`UPDATE users SET presence = 'available' WHERE id = $1`, [agentId]);
});
afterAll(async () => svc?.close());

async function snapshot(c: CallScript) {
  const q = (sql: string) => svc.container.ds.query(sql, [c.callSid]);
  const [call] = await q(
    `SELECT direction, status, outcome, missed_reason, answered_by, answered_at, ended_at IS NOT NULL AS ended, duration_sec,
            contact_id IS NOT NULL AS has_contact, deal_id IS NOT NULL AS has_deal, is_first_time_caller
     FROM calls WHERE provider_call_id = $1`,
  );
  const legs = await q(`SELECT l.status, l.answered_at, l.duration_sec, l.user_id FROM call_legs l JOIN calls c ON c.id = l.call_id WHERE c.provider_call_id = $1`);
  const recordings = await q(`SELECT r.status, r.duration_sec, r.channels FROM recordings r JOIN calls c ON c.id = r.call_id WHERE c.provider_call_id = $1`);
  const tasks = await q(`SELECT t.status, t.attempts FROM tasks t JOIN calls c ON c.contact_id = t.contact_id WHERE c.provider_call_id = $1`);
  return { ...call, legs, recordings, tasks };
}

async function play(deliveries: Delivery[]): Promise<void> {
  for (const d of deliveries) {
    const res = await postSigned(svc, d);
    if (![200, 204].includes(res.status)) throw new Error(`${d.path} answered ${res.status}`);
  }
  await drainInbox(svc);
}

const scenarios: Array<[string, (c: CallScript) => Delivery[]]> = [
  ["answered", (c) => [voice(c), ...answeredCallbacks(c, "client:perm")]],
  ["missed", (c) => [voice(c), ...missedCallbacks(c, "client:perm")]],
];

describe.each(scenarios)("%s call", (_name, script) => {
  it("ends in the same record for any arrival order", async () => {
    const inOrder = newCall(`+1312555${String(1000 + ++n)}`);
    await play(script(inOrder));
    const expected = await snapshot(inOrder);
    expect(expected.status).toBe("completed");

    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (seed) => {
        const c = newCall(`+1312555${String(1000 + ++n)}`);
        const deliveries = script(c);
        const shuffled = fc.sample(fc.shuffledSubarray(deliveries, { minLength: deliveries.length, maxLength: deliveries.length }), { seed, numRuns: 1 })[0]!;
        await play(shuffled);
        expect(await snapshot(c)).toEqual(expected);
      }),
      { numRuns: 30 },
    );
  }, 60_000);
});
