import { InboxBatcher } from "../../src/webhooks";
import { startTestService, type TestService } from "../support/test-service";
import { legStatuses, missedCallbacks, newCall, parentStatus, postSigned, sid, voice, type CallScript, type Delivery } from "../support/twilio";
import { waitFor } from "../support/wait-for";

// The web role stores deliveries and applies none: the tests apply them by hand.
let svc: TestService;
beforeAll(async () => (svc = await startTestService({ role: "web" })));
afterAll(async () => svc?.close());

let n = 0;
const nextCall = () => newCall(`+1415557${String(1000 + ++n)}`);

async function store(deliveries: Delivery[]): Promise<string[]> {
  for (const d of deliveries) expect((await postSigned(svc, d)).status).toBeLessThan(300);
  const keys = deliveries.map((d) => d.params.CallSid);
  const rows: Array<{ id: string }> = await svc.container.ds.query(
    `SELECT id FROM inbox WHERE payload->'params'->>'CallSid' = ANY($1) AND status = 'pending' ORDER BY received_at, id`,
    [keys],
  );
  return rows.map((r) => r.id);
}

/** A voice delivery the ingest cannot apply (routing that is not a list): its handler throws. */
async function storeBroken(c: CallScript): Promise<string> {
  const [row] = await svc.container.ds.query(
    `INSERT INTO inbox (source, delivery_key, payload) VALUES ('twilio.voice', $1, $2) RETURNING id`,
    [`test:broken:${c.callSid}`, JSON.stringify({ route: "voice", params: voice(c).params, query: {}, routing: { action: "dial", agents: "not-a-list" } })],
  );
  return row.id;
}

const callsOf = (cs: CallScript[]) =>
  svc.container.ds.query(`SELECT provider_call_id, status, outcome FROM calls WHERE provider_call_id = ANY($1) ORDER BY provider_call_id`, [cs.map((c) => c.callSid)]);
const inboxOf = (ids: string[]) =>
  svc.container.ds.query(`SELECT id, status, attempts FROM inbox WHERE id = ANY($1::uuid[]) ORDER BY id`, [ids]) as Promise<Array<{ id: string; status: string; attempts: number }>>;

describe("deliveries applied in one shared transaction", () => {
  it("the intake tells the worker which call a delivery is about and whether it rings now", async () => {
    const jobs: unknown[] = [];
    const spy = jest.spyOn(svc.container.queue, "enqueueMany").mockImplementation(async (_name, batch) => {
      jobs.push(...batch.map((j) => j.payload));
    });
    try {
      const c = nextCall();
      await store([voice(c), ...legStatuses(c, sid("CA"), "client:alice", ["ringing"]), parentStatus(c, "completed")]);
      await waitFor(() => jobs.length === 3, { what: "three jobs" });
      const lane = `twilio:${c.callSid}`;
      expect(jobs).toEqual([
        { inboxId: expect.any(String), lane, ringing: true },
        { inboxId: expect.any(String), lane },
        { inboxId: expect.any(String), lane },
      ]);
    } finally {
      spy.mockRestore();
    }
  });

  it("applies several calls' deliveries in the order given, with their call-back tasks, history and audit entries", async () => {
    const calls = [nextCall(), nextCall(), nextCall()];
    // Each call rings, then ends unanswered: the second delivery needs the first's call.
    const ids = await store(calls.flatMap((c) => [voice(c), parentStatus(c, "completed", { CallDuration: "7" })]));
    expect(ids).toHaveLength(6);

    const results = await svc.container.inbox.processMany(ids);

    expect([...results!.values()]).toEqual(Array(6).fill("done"));
    expect((await inboxOf(ids)).map((r) => [r.status, r.attempts])).toEqual(Array(6).fill(["done", 1]));
    expect(await callsOf(calls)).toEqual(
      [...calls].sort((a, b) => a.callSid.localeCompare(b.callSid)).map((c) => ({ provider_call_id: c.callSid, status: "completed", outcome: "missed" })),
    );
    const [counts] = await svc.container.ds.query(
      `SELECT (SELECT count(*)::int FROM tasks t JOIN calls c ON c.id = t.call_id WHERE c.provider_call_id = ANY($1)) AS tasks,
              (SELECT count(*)::int FROM call_events e JOIN calls c ON c.id = e.call_id WHERE c.provider_call_id = ANY($1)) AS events,
              (SELECT count(*)::int FROM audit_log a JOIN calls c ON c.id::text = a.entity_id WHERE a.entity = 'call' AND c.provider_call_id = ANY($1)) AS call_audits`,
      [calls.map((c) => c.callSid)],
    );
    expect(counts).toEqual({ tasks: 3, events: 6, call_audits: 6 });
  });

  it("keeps nothing when one delivery fails; applied one by one, the others land and the bad one fails alone", async () => {
    const good = [nextCall(), nextCall()];
    const ids = await store(good.flatMap((c) => missedCallbacks(c, "client:nobody").slice(-1)));
    const broken = await storeBroken(nextCall());
    const all = [ids[0]!, broken, ids[1]!];

    await expect(svc.container.inbox.processMany(all)).resolves.toBeUndefined();
    expect(await callsOf(good)).toEqual([]);
    expect((await inboxOf(all)).map((r) => [r.status, r.attempts])).toEqual(Array(3).fill(["pending", 0]));

    // Through the batcher (as the worker does): a shared transaction, its failure, the replay.
    const batcher = new InboxBatcher(svc.container.inbox, 1);
    const outcomes = await Promise.all(all.map((id) => batcher.apply(id).then((r) => r, (err: Error) => `failed: ${err.constructor.name}`)));
    expect(outcomes).toEqual(["done", "failed: TypeError", "done"]);
    expect((await callsOf(good)).map((c: { outcome: string }) => c.outcome)).toEqual(["missed", "missed"]);
    const rows = new Map((await inboxOf(all)).map((r) => [r.id, r]));
    expect([rows.get(ids[0]!)!.status, rows.get(broken)!.status, rows.get(ids[1]!)!.status]).toEqual(["done", "pending", "done"]);
    expect(rows.get(broken)!.attempts).toBe(1);
  });

  it("a number that received a call earlier in the same transaction is ours, never a caller", async () => {
    const ours = "+14155570999";
    const first = newCall("+14155571234", ours);
    const fromOurs = newCall(ours, "+15005550100");
    const ids = await store([voice(first), voice(fromOurs)]);

    await svc.container.inbox.processMany(ids);

    const rows = await svc.container.ds.query(`SELECT provider_call_id, contact_id FROM calls WHERE provider_call_id = ANY($1)`, [[first.callSid, fromOurs.callSid]]);
    const contactOf = new Map(rows.map((r: { provider_call_id: string; contact_id: string | null }) => [r.provider_call_id, r.contact_id]));
    expect(contactOf.get(first.callSid)).toEqual(expect.any(String));
    expect(contactOf.get(fromOurs.callSid)).toBeNull();
    const phones = await svc.container.ds.query(`SELECT 1 FROM contact_phones WHERE e164 = $1`, [ours]);
    expect(phones).toEqual([]);
  });

  it("a caller's second call in the same transaction finds the first with its contact: one contact, and no first call", async () => {
    // A new call's save waits for the closing statement (DeferredWrites.later): the next delivery must see it.
    const caller = "+14155572468";
    const first = newCall(caller);
    const second = newCall(caller);
    // An agent to ring, so that both calls ring as they do under load (with nobody to take them, they are missed at once).
    const { userId } = await svc.signIn("agent", { dialTarget: "client:batch-agent" });
    await svc.container.ds.query(`UPDATE users SET presence = 'available' WHERE id = $1`, [userId]);
    let ids: string[];
    try {
      ids = await store([voice(first), voice(second)]);
    } finally {
      await svc.container.ds.query(`UPDATE users SET presence = 'offline' WHERE id = $1`, [userId]);
    }

    expect([...(await svc.container.inbox.processMany(ids))!.values()]).toEqual(["done", "done"]);

    const rows: Array<{ provider_call_id: string; status: string; contact_id: string; is_first_time_caller: boolean }> = await svc.container.ds.query(
      `SELECT provider_call_id, status, contact_id, is_first_time_caller FROM calls WHERE provider_call_id = ANY($1)`,
      [[first.callSid, second.callSid]],
    );
    const of = new Map(rows.map((r) => [r.provider_call_id, r]));
    expect(of.get(first.callSid)).toMatchObject({ status: "ringing", contact_id: expect.any(String), is_first_time_caller: true });
    expect(of.get(second.callSid)).toMatchObject({ contact_id: of.get(first.callSid)!.contact_id, is_first_time_caller: false });
  });

  it("skips deliveries already applied, and applies the same call's deliveries once each when given twice", async () => {
    const c = nextCall();
    const ids = await store([voice(c), parentStatus(c, "completed", { CallDuration: "3" })]);
    expect(await svc.container.inbox.process(ids[0]!)).toBe("done");

    const results = await svc.container.inbox.processMany([...ids, ids[1]!]);

    expect(results).toEqual(new Map([[ids[0]!, "skipped"], [ids[1]!, "done"]]));
    const [events] = await svc.container.ds.query(
      `SELECT count(*)::int AS n FROM call_events e JOIN calls c ON c.id = e.call_id WHERE c.provider_call_id = $1`,
      [c.callSid],
    );
    expect(events.n).toBe(2);
  });
});
