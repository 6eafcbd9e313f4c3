import { OutboxDispatcher, PopStore, type PopDelivery, type Realtime } from "../../src/realtime";
import { startTestService, type TestService } from "../support/test-service";
import { newCall, parentStatus, postSigned, voice } from "../support/twilio";

// The web role runs no dispatcher of its own: the dispatchers below are the only ones.
let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ role: "web" });
});
afterAll(async () => svc?.close());

const q = (sql: string, params: unknown[] = []) => svc.container.ds.query(sql, params);

/** A dispatcher whose sockets are a list of what it sent. */
function dispatcher() {
  const sent: Array<{ userId: string; popId: string; callId: string; pop: Record<string, unknown> }> = [];
  const updates: unknown[] = [];
  const realtime = {
    sendPops: (calls: PopDelivery[]) => {
      for (const { content, to } of calls) for (const { userId, popId } of to) sent.push({ userId, popId, callId: content.call.id, pop: { popId, ...content } });
    },
    io: { to: () => ({ emit: (_event: string, update: unknown) => updates.push(update) }) },
  } as unknown as Realtime;
  return { d: new OutboxDispatcher(svc.container.ds, svc.container.crm.callContext, new PopStore(svc.container.ds), realtime), sent, updates };
}

/** Rings two available agents with `n` new calls, applied (outbox rows written) but not dispatched. */
async function ringingCalls(n: number, firstNumber: number): Promise<{ callIds: string[]; agents: string[] }> {
  const agents = [];
  for (const target of [`client:d${firstNumber}a`, `client:d${firstNumber}b`]) agents.push((await svc.signIn("agent", { dialTarget: target })).userId);
  await q(`UPDATE users SET presence = CASE WHEN id = ANY($1::uuid[]) THEN 'available' ELSE 'offline' END`, [agents]);
  const callIds = [];
  for (let i = 0; i < n; i++) {
    const c = newCall(`+1415${firstNumber + i}`); // +1 415 555-07xx: a valid number, so each call has a contact and a deal
    await postSigned(svc, voice(c)).expect(200);
    const [row] = await q(`SELECT id FROM inbox WHERE delivery_key = $1`, [`twilio:voice:${c.callSid}`]);
    expect(await svc.container.inbox.process(row.id)).toBe("done");
    callIds.push((await q(`SELECT id FROM calls WHERE provider_call_id = $1`, [c.callSid]))[0].id);
  }
  return { callIds, agents };
}

describe("dispatching ringing calls", () => {
  it("claims the rows, builds the cards and stores the pops in one statement, with no transaction, then pops each rung agent once", async () => {
    const { callIds, agents } = await ringingCalls(2, 5550700);
    const { d, sent, updates } = dispatcher();
    const transactions = jest.spyOn(svc.container.ds, "transaction");
    const { handled } = await d.drain({ ringing: true });
    expect(transactions).not.toHaveBeenCalled();
    transactions.mockRestore();

    expect(handled).toBe(4); // a pop and a board update per call
    expect(updates).toHaveLength(2);
    const stored = await q(`SELECT id, call_id, user_id, status FROM screen_pops WHERE call_id = ANY($1::uuid[])`, [callIds]);
    expect(stored).toHaveLength(4);
    expect(stored.every((p: { status: string }) => p.status === "sent")).toBe(true);
    expect(sent.map((s) => `${s.callId}:${s.userId}:${s.popId}`).sort()).toEqual(stored.map((p: { id: string; call_id: string; user_id: string }) => `${p.call_id}:${p.user_id}:${p.id}`).sort());
    expect(new Set(sent.map((s) => s.userId))).toEqual(new Set(agents));
    expect(await q(`SELECT count(*)::int AS n FROM outbox WHERE status <> 'done'`)).toEqual([{ n: 0 }]);
    // The cards built by the claim are the cards the transactional way reads, and what was stored.
    const cards = await svc.container.crm.callContext.screenPops(callIds);
    for (const { callId, popId, pop } of sent) {
      const { popId: _id, ...content } = pop;
      expect(content).toEqual(cards.get(callId));
      expect((await q(`SELECT k.payload FROM screen_pops p JOIN screen_pop_cards k ON k.call_id = p.call_id WHERE p.id = $1`, [popId]))[0].payload).toEqual(content);
    }
    // The card is stored once per call, not on each agent's pop.
    expect(await q(`SELECT count(*)::int AS n FROM screen_pop_cards WHERE call_id = ANY($1::uuid[])`, [callIds])).toEqual([{ n: 2 }]);
    expect(await q(`SELECT count(*)::int AS n FROM screen_pops WHERE call_id = ANY($1::uuid[]) AND payload IS NOT NULL`, [callIds])).toEqual([{ n: 0 }]);
    expect(cards.get(callIds[0]!)).toMatchObject({ contact: { isNew: true, phones: ["+14155550700"] }, openDeals: [expect.objectContaining({ stage: "New lead" })] });
  });

  it("two dispatchers racing for the same rows pop each agent once, and each row is claimed once", async () => {
    const { callIds } = await ringingCalls(6, 5550710);
    const a = dispatcher();
    const b = dispatcher();
    await Promise.all([a.d.drain({ ringing: true }), b.d.drain({ ringing: true }), a.d.drain({ ringing: true }), b.d.drain({ ringing: true })]);
    const sent = [...a.sent, ...b.sent];
    expect(sent).toHaveLength(12);
    expect(new Set(sent.map((s) => s.popId)).size).toBe(12);
    expect(await q(`SELECT count(*)::int AS n FROM screen_pops WHERE call_id = ANY($1::uuid[])`, [callIds])).toEqual([{ n: 12 }]);
    const rows = await q(`SELECT status, attempts FROM outbox WHERE payload->>'callId' = ANY($1::text[])`, [callIds]);
    expect(rows).toHaveLength(12);
    expect(rows.every((r: { status: string; attempts: number }) => r.status === "done" && r.attempts === 1)).toBe(true);
  });

  it("without a ringing call applied, pending rows go the transactional way at once", async () => {
    const { callIds } = await ringingCalls(1, 5550730);
    const { d, sent } = dispatcher();
    const transactions = jest.spyOn(svc.container.ds, "transaction");
    await d.drain();
    expect(transactions).toHaveBeenCalledTimes(1);
    transactions.mockRestore();
    expect(sent.map((s) => s.callId)).toEqual([callIds[0], callIds[0]]);
  });

  it("with an answered call pending too, its row goes the transactional way after the pops, and dismisses them", async () => {
    const { callIds } = await ringingCalls(1, 5550720);
    await q(`INSERT INTO outbox (topic, payload, dedupe_key) VALUES ('call.update', $1, 'answered-720')`, [
      JSON.stringify({ callId: callIds[0], status: "in-progress", outcome: "answered", answeredBy: null }),
    ]);
    const { d, sent } = dispatcher();
    const transactions = jest.spyOn(svc.container.ds, "transaction");
    await d.drain({ ringing: true });
    expect(transactions).toHaveBeenCalledTimes(1);
    transactions.mockRestore();
    expect(sent).toHaveLength(2);
    expect(await q(`SELECT DISTINCT status FROM screen_pops WHERE call_id = $1`, [callIds[0]])).toEqual([{ status: "dismissed" }]);
  });

  // Found in review: a ringing call's row dispatched after the answer (retried, raced by another
  // dispatcher, or its delivery applied late) popped an "in-progress" card that nothing dismissed.
  it("a call answered before its pops are stored pops for no one, either way", async () => {
    for (const ringing of [true, false]) {
      const { callIds } = await ringingCalls(1, ringing ? 5550740 : 5550750);
      await q(`UPDATE calls SET status = 'in-progress' WHERE id = $1`, [callIds[0]]);
      const { d, sent } = dispatcher();
      const { handled } = await d.drain({ ringing });
      expect(handled).toBe(2);
      expect(sent).toEqual([]);
      expect(await q(`SELECT count(*)::int AS n FROM screen_pops WHERE call_id = $1`, [callIds[0]])).toEqual([{ n: 0 }]);
      expect(await q(`SELECT count(*)::int AS n FROM outbox WHERE status <> 'done'`)).toEqual([{ n: 0 }]);
    }
  });

  it("a ringing event applied after the answer writes no pop at all", async () => {
    const agent = await svc.signIn("agent", { dialTarget: "client:d5550760" });
    await q(`UPDATE users SET presence = CASE WHEN id = $1 THEN 'available' ELSE 'offline' END`, [agent.userId]);
    const c = newCall("+14155550760");
    await postSigned(svc, voice(c)).expect(200);
    await postSigned(svc, parentStatus(c, "in-progress")).expect(204);
    const [voiceRow] = await q(`SELECT id FROM inbox WHERE delivery_key = $1`, [`twilio:voice:${c.callSid}`]);
    const [statusRow] = await q(`SELECT id FROM inbox WHERE source = 'twilio.status' AND payload::text LIKE '%' || $1 || '%'`, [c.callSid]);
    expect(await svc.container.inbox.process(statusRow.id)).toBe("done");
    expect(await svc.container.inbox.process(voiceRow.id)).toBe("done");
    const [call] = await q(`SELECT id, status FROM calls WHERE provider_call_id = $1`, [c.callSid]);
    expect(call.status).toBe("in-progress");
    expect(await q(`SELECT count(*)::int AS n FROM outbox WHERE topic = 'screen-pop' AND payload->>'callId' = $1`, [call.id])).toEqual([{ n: 0 }]);
  });
});

describe("sending again the pops nobody acknowledged", () => {
  /** As if the pops of the call had been sent (and so had come due) `seconds` ago. */
  const sentAgo = async (callId: string, seconds: number) => {
    await q(`UPDATE screen_pops SET sent_at = now() - make_interval(secs => $2) WHERE call_id = $1`, [callId, seconds]);
    await q(`UPDATE screen_pop_cards SET updated_at = now() - make_interval(secs => $2) WHERE call_id = $1`, [callId, seconds]);
  };

  it("a run looks at the calls whose pops came due since the last run, a process's first run at every ringing call", async () => {
    const { callIds } = await ringingCalls(2, 5550770);
    const [early, lately] = callIds as [string, string];
    const { d, sent } = dispatcher();
    await d.drain({ ringing: true });
    expect(sent).toHaveLength(4);
    const resentFor = () =>
      sent
        .splice(0)
        .filter((s) => callIds.includes(s.callId))
        .map((s) => s.callId)
        .sort();
    resentFor();

    // Neither acknowledged: one sent long ago (as if no run had looked since), one of late.
    await sentAgo(early, 60);
    await sentAgo(lately, 12);
    await d.resendUnacknowledged(10_000);
    expect(resentFor()).toEqual([early, early, lately, lately].sort());
    // Sent again now, they come due again in ten seconds.
    expect(await q(`SELECT count(*)::int AS n FROM screen_pop_cards WHERE call_id = ANY($1::uuid[]) AND updated_at > now() - interval '5 seconds'`, [callIds])).toEqual([{ n: 2 }]);

    // The next run looks at what came due since the last one (and at least the five seconds before).
    await sentAgo(early, 60);
    await sentAgo(lately, 12);
    await q(`UPDATE screen_pops SET status = 'acked' WHERE id = (SELECT id FROM screen_pops WHERE call_id = $1 LIMIT 1)`, [lately]);
    await d.resendUnacknowledged(10_000);
    expect(resentFor()).toEqual([lately]);
  });

  it("runs missed (the sweeps stop while Redis is away) are caught up by the next one", async () => {
    const { callIds } = await ringingCalls(1, 5550780);
    const { d } = dispatcher();
    await d.drain({ ringing: true });
    await sentAgo(callIds[0]!, 60);
    const pops = new PopStore(svc.container.ds);
    const lastRun = new Date(Date.now() - 90_000);
    const { pops: resent, cutoff } = await pops.unacknowledged(10_000, lastRun);
    expect(resent.filter((p) => p.payload.call.id === callIds[0])).toHaveLength(2);
    expect(cutoff.getTime()).toBeGreaterThan(lastRun.getTime());
    // A run from that cutoff on looks no further back than five seconds before it.
    await sentAgo(callIds[0]!, 60);
    expect((await pops.unacknowledged(10_000, cutoff)).pops.filter((p) => p.payload.call.id === callIds[0])).toEqual([]);
  });
});
