import { createLogger } from "../../src/platform/logger";
import { twilioLane } from "../../src/telephony";
import { sweepInbox } from "../../src/webhooks";
import { startTestService, type TestService } from "../support/test-service";
import { newCall, parentStatus, voice, type CallScript } from "../support/twilio";
import { waitFor } from "../support/wait-for";

// Decision 0014: deliveries committed together reach the worker as one queue job.
let n = 0;
const nextCall = () => newCall(`+1415558${String(1000 + ++n)}`);
/** A missed call's status callback, as the Twilio route stores it. */
const statusPayload = (c: CallScript) => ({ route: "status", params: parentStatus(c, "completed", { CallDuration: "0" }).params, query: {} });

async function insertPending(svc: TestService, rows: Array<{ key: string; source: string; payload: unknown; age?: string }>): Promise<string[]> {
  const ids: string[] = [];
  for (const r of rows) {
    const [row] = await svc.container.ds.query(
      `INSERT INTO inbox (source, delivery_key, payload, received_at) VALUES ($1, $2, $3, now() - $4::interval) RETURNING id`,
      [r.source, r.key, JSON.stringify(r.payload), r.age ?? "0 seconds"],
    );
    ids.push(row.id);
  }
  return ids;
}

const inboxOf = (svc: TestService, ids: string[]) =>
  svc.container.ds.query(`SELECT id, status, attempts, last_error FROM inbox WHERE id = ANY($1::uuid[])`, [ids]) as Promise<
    Array<{ id: string; status: string; attempts: number; last_error: string | null }>
  >;

describe("batch jobs, applied by a worker", () => {
  let svc: TestService;
  let enqueued: jest.SpyInstance;
  beforeAll(async () => {
    svc = await startTestService({ role: "all" });
    enqueued = jest.spyOn(svc.container.queue, "enqueueMany"); // records, and still enqueues
  });
  afterAll(async () => svc?.close());
  beforeEach(() => enqueued.mockClear());

  it("deliveries committed together go to the queue as jobs of up to 32, and every one of them is applied", async () => {
    const calls = Array.from({ length: 40 }, nextCall);
    // The first is written at once, alone; the other 39 arrive while it is in flight and share
    // the next statement. The first waits for them (a statement follows it for sure), so the 40
    // are enqueued together: 32 in a job, then 8.
    const accepted = await Promise.all(
      calls.map((c) => svc.container.intake.accept("twilio.status", `test:batch:${c.callSid}`, statusPayload(c), { lane: twilioLane(statusPayload(c).params) })),
    );
    const ids = accepted.map((a) => a.inboxId);
    await waitFor(async () => (await inboxOf(svc, ids)).every((r) => r.status === "done"), { what: "all 40 applied", timeoutMs: 30_000 });

    const jobs = enqueued.mock.calls.map(([name, js]) => [name, (js as Array<{ payload: unknown }>).map((j) => j.payload)]);
    const delivery = (i: number) => ({ inboxId: ids[i], lane: `twilio:${calls[i]!.callSid}` });
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => delivery(from + k));
    expect(jobs).toEqual([["inbox.apply-batch", [{ deliveries: range(0, 32) }, { deliveries: range(32, 40) }]]]);
    const applied = await svc.container.ds.query(`SELECT count(*)::int AS n FROM calls WHERE provider_call_id = ANY($1) AND outcome = 'missed'`, [
      calls.map((c) => c.callSid),
    ]);
    expect(applied).toEqual([{ n: 40 }]);
  });

  it("a delivery held for the next statement's job is enqueued when that statement fails", async () => {
    const [good, bad] = [nextCall(), nextCall()];
    const first = svc.container.intake.accept("twilio.status", `test:held:${good.callSid}`, statusPayload(good));
    // Arrives while the first is in flight: the first is held for it. PostgreSQL cannot store a
    // NUL character in jsonb, so this statement fails.
    const refused = svc.container.intake.accept("twilio.status", `test:held:${bad.callSid}`, { ...statusPayload(bad), note: "nul\u0000" });
    await expect(refused).rejects.toMatchObject({ code: "unavailable" });
    const { inboxId } = await first;

    expect(enqueued.mock.calls).toEqual([["inbox.apply", [{ payload: { inboxId }, opts: { jobId: `${inboxId}:0` } }]]]);
    await waitFor(async () => (await inboxOf(svc, [inboxId]))[0]?.status === "done", { what: "the held delivery applied" });
  });

  it("a delivery that fails in a batch job goes back to the queue alone; the others are applied", async () => {
    const [good1, good2, bad] = [nextCall(), nextCall(), nextCall()];
    const [id1, idBad, id2] = await insertPending(svc, [
      { source: "twilio.status", key: `test:good:${good1.callSid}`, payload: statusPayload(good1) },
      // Routing that is not a list: the voice handler throws on it.
      { source: "twilio.voice", key: `test:bad:${bad.callSid}`, payload: { route: "voice", params: voice(bad).params, query: {}, routing: { action: "dial", agents: "x" } } },
      { source: "twilio.status", key: `test:good:${good2.callSid}`, payload: statusPayload(good2) },
    ]);
    await svc.container.queue.enqueue("inbox.apply-batch", { deliveries: [{ inboxId: id1! }, { inboxId: idBad! }, { inboxId: id2! }] });

    await waitFor(() => enqueued.mock.calls.some(([name]) => name === "inbox.apply"), { what: "the failed delivery handed back" });
    expect(enqueued.mock.calls).toEqual([["inbox.apply", [{ payload: { inboxId: idBad }, opts: { jobId: `${idBad}:from-batch`, delayMs: 500 } }]]]);
    const rows = new Map((await inboxOf(svc, [id1!, id2!, idBad!])).map((r) => [r.id, r]));
    expect(rows.get(id1!)?.status).toBe("done");
    expect(rows.get(id2!)?.status).toBe("done");
    expect(rows.get(idBad!)).toMatchObject({ status: "pending", attempts: expect.any(Number), last_error: expect.any(String) });
    expect(rows.get(idBad!)!.attempts).toBeGreaterThanOrEqual(1);
    // The job it was handed back as runs (and fails again, counted on the row).
    await waitFor(async () => (await inboxOf(svc, [idBad!]))[0]!.attempts >= 2, { what: "the handed-back job ran" });
  });
});

describe("the sweeper and batch jobs", () => {
  // The web role runs no jobs: what it enqueues keeps waiting. The sweeper's test goes first, so
  // that the job it enqueues with a clock a minute back is the first in the queue, as it would be.
  let svc: TestService;
  beforeAll(async () => (svc = await startTestService({ role: "web" })));
  afterAll(async () => svc?.close());

  it("leaves a pending row to the jobs still waiting ahead of it, and takes one older than all of them", async () => {
    const minuteAgo = Date.now() - 60_000;
    const clock = jest.spyOn(Date, "now").mockReturnValue(minuteAgo);
    try {
      await svc.container.queue.enqueue("inbox.apply-batch", { deliveries: [{ inboxId: "00000000-0000-4000-8000-000000000000" }] });
    } finally {
      clock.mockRestore();
    }
    const [c1, c2] = [nextCall(), nextCall()];
    const [lost, queued] = await insertPending(svc, [
      // Older than the oldest waiting job: no job can still hold it.
      { source: "twilio.status", key: `test:lost:${c1.callSid}`, payload: statusPayload(c1), age: "5 minutes" },
      // Past the grace, but received after that job was enqueued: its job may be waiting too.
      { source: "twilio.status", key: `test:queued:${c2.callSid}`, payload: statusPayload(c2), age: "30 seconds" },
    ]);
    const swept = jest.spyOn(svc.container.queue, "enqueue");
    try {
      expect(await sweepInbox(svc.container.ds, svc.container.queue, createLogger("silent"))).toBe(1);
      expect(swept.mock.calls.map(([name, payload]) => [name, payload])).toEqual([["inbox.apply", { inboxId: lost }]]);
      expect(swept.mock.calls.flatMap(([, p]) => [(p as { inboxId?: string }).inboxId])).not.toContain(queued);
    } finally {
      swept.mockRestore();
    }
  });

  // Found in review: each sweep enqueued a failing delivery again at once, next to the queue's own
  // retries, and it was parked as failed within a minute.
  it("takes a delivery that failed only once its backoff is over", async () => {
    const bad = nextCall();
    const [id] = await insertPending(svc, [
      { source: "twilio.voice", key: `test:backoff:${bad.callSid}`, payload: { route: "voice", params: voice(bad).params, query: {}, routing: { action: "dial", agents: "x" } }, age: "5 minutes" },
    ]);
    await expect(svc.container.inbox.process(id!)).rejects.toThrow();
    const [row] = await svc.container.ds.query(`SELECT status, attempts, failures, available_at > now() AS waiting FROM inbox WHERE id = $1`, [id]);
    expect(row).toEqual({ status: "pending", attempts: 1, failures: 1, waiting: true });
    const swept = jest.spyOn(svc.container.queue, "enqueue");
    try {
      await sweepInbox(svc.container.ds, svc.container.queue, createLogger("silent"));
      expect(swept.mock.calls.map(([, p]) => (p as { inboxId?: string }).inboxId)).not.toContain(id);
      await svc.container.ds.query(`UPDATE inbox SET available_at = now() - interval '1 second' WHERE id = $1`, [id]);
      await sweepInbox(svc.container.ds, svc.container.queue, createLogger("silent"));
      expect(swept.mock.calls.map(([, p]) => (p as { inboxId?: string }).inboxId)).toContain(id);
    } finally {
      swept.mockRestore();
    }
  });

  // Found in review: deferrals counted as attempts, so a recording that had waited for its call
  // through ten deferrals was parked as failed by its first failure (a database restart).
  it("parks a delivery after ten failures, and a delivery that only waited is not parked by one", async () => {
    const bad = () => {
      const c = nextCall();
      return { source: "twilio.voice", key: `test:failures:${c.callSid}`, payload: { route: "voice", params: voice(c).params, query: {}, routing: { action: "dial", agents: "x" } } };
    };
    const [waited, failing] = await insertPending(svc, [bad(), bad()]);
    const rowOf = async (id: string) =>
      (await svc.container.ds.query(`SELECT status, attempts, failures FROM inbox WHERE id = $1`, [id]))[0] as { status: string; attempts: number; failures: number };
    await svc.container.ds.query(`UPDATE inbox SET status = 'deferred', attempts = 14 WHERE id = $1`, [waited]);
    await expect(svc.container.inbox.process(waited!)).rejects.toThrow();
    expect(await rowOf(waited!)).toEqual({ status: "deferred", attempts: 15, failures: 1 });

    await svc.container.ds.query(`UPDATE inbox SET failures = 9, attempts = 9 WHERE id = $1`, [failing]);
    await expect(svc.container.inbox.process(failing!)).rejects.toThrow();
    expect(await rowOf(failing!)).toEqual({ status: "failed", attempts: 10, failures: 10 });
  });

  it("a ringing call's delivery stays a job of its own, even when it was committed with others", async () => {
    const enqueued = jest.spyOn(svc.container.queue, "enqueueMany"); // records, and still enqueues
    try {
      const [first, ringing, s1, s2] = [nextCall(), nextCall(), nextCall(), nextCall()];
      const accept = (c: CallScript, source: string, payload: object, ring?: boolean) =>
        svc.container.intake.accept(source, `test:ringing-single:${c.callSid}`, payload, { lane: `twilio:${c.callSid}`, ringing: ring });
      const [a, r, b, d] = await Promise.all([
        accept(first, "twilio.status", statusPayload(first)),
        accept(ringing, "twilio.voice", { route: "voice", params: voice(ringing).params, query: {}, routing: { action: "hangup" } }, true),
        accept(s1, "twilio.status", statusPayload(s1)),
        accept(s2, "twilio.status", statusPayload(s2)),
      ]);
      const jobs = enqueued.mock.calls.map(([name, js]) => [name, (js as Array<{ payload: unknown }>).map((j) => j.payload)]);
      // The first, written alone, waits for the next statement's deliveries; the ringing call does not.
      expect(jobs).toEqual([
        ["inbox.apply", [{ inboxId: r.inboxId, lane: `twilio:${ringing.callSid}`, ringing: true }]],
        ["inbox.apply-batch", [{ deliveries: ([[a, first], [b, s1], [d, s2]] as const).map(([x, c]) => ({ inboxId: x.inboxId, lane: `twilio:${c.callSid}` })) }]],
      ]);
    } finally {
      enqueued.mockRestore();
    }
  });
});
