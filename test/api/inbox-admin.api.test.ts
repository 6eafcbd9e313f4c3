import { startTestService, type TestService } from "../support/test-service";
import { newCall, postSigned, recording, sid, voice } from "../support/twilio";
import { waitFor } from "../support/wait-for";

let svc: TestService;
let admin: { token: string; userId: string };
const q = (sql: string, params: unknown[] = []) => svc.container.ds.query(sql, params);
const asAdmin = (req: import("supertest").Test) => req.set("authorization", `Bearer ${admin.token}`);

beforeAll(async () => {
  svc = await startTestService();
  admin = await svc.signIn("admin");
});
afterAll(async () => svc?.close());

/** A recording whose call never came in time, parked as failed (as the processor leaves it after its wait). */
async function parkedRecording() {
  const c = newCall("+14155550707");
  const recSid = sid("RE");
  await postSigned(svc, recording(c, recSid)).expect(204);
  const [row] = await q(`SELECT id FROM inbox WHERE source = 'twilio.recording' AND payload->'params'->>'RecordingSid' = $1`, [recSid]);
  await waitFor(async () => (await q(`SELECT status FROM inbox WHERE id = $1`, [row.id]))[0].status === "deferred", { what: "deferred: no such call yet" });
  await q(`UPDATE inbox SET status = 'failed', attempts = 12, failures = 10, last_error = 'the call never came' WHERE id = $1`, [row.id]);
  return { c, recSid, inboxId: row.id as string };
}

describe("provider deliveries not applied (/api/inbox)", () => {
  it("lists failed deliveries with their error, shows one with its payload, and a retry applies it once its cause is gone", async () => {
    const { c, recSid, inboxId } = await parkedRecording();
    const list = await asAdmin(svc.http.get("/api/inbox/deliveries")).expect(200);
    expect(list.body.items).toContainEqual(
      expect.objectContaining({ id: inboxId, source: "twilio.recording", status: "failed", attempts: 12, failures: 10, lastError: "the call never came" }),
    );
    const one = await asAdmin(svc.http.get(`/api/inbox/deliveries/${inboxId}`)).expect(200);
    expect(one.body.payload.params.RecordingSid).toBe(recSid);

    // The call comes after all; retried, the recording attaches to it.
    await postSigned(svc, voice(c)).expect(200);
    const retried = await asAdmin(svc.http.post(`/api/inbox/deliveries/${inboxId}/retry`)).expect(200);
    expect(retried.body).toMatchObject({ id: inboxId, status: "pending", attempts: 0, failures: 0, lastError: null });
    await waitFor(async () => (await q(`SELECT status FROM inbox WHERE id = $1`, [inboxId]))[0].status === "done", { timeoutMs: 15_000, what: "applied" });
    const recordings = await q(`SELECT r.status FROM recordings r JOIN calls c ON c.id = r.call_id WHERE c.provider_call_id = $1`, [c.callSid]);
    expect(recordings).toEqual([{ status: "completed" }]);
    const audit = await q(`SELECT actor_id, before, after FROM audit_log WHERE entity = 'inbox_delivery' AND entity_id = $1`, [inboxId]);
    expect(audit).toEqual([{ actor_id: admin.userId, before: expect.objectContaining({ status: "failed", attempts: 12, failures: 10 }), after: expect.objectContaining({ status: "pending", failures: 0, retried: true }) }]);
    expect((await asAdmin(svc.http.get("/api/inbox/deliveries")).expect(200)).body.items.map((d: { id: string }) => d.id)).not.toContain(inboxId);

    // Applied: nothing to retry, and nothing changes.
    const applied = (await q(`SELECT status, attempts, processed_at FROM inbox WHERE id = $1`, [inboxId]))[0];
    const conflict = await asAdmin(svc.http.post(`/api/inbox/deliveries/${inboxId}/retry`)).expect(409);
    expect(conflict.body.error.code).toBe("conflict");
    expect((await q(`SELECT status, attempts, processed_at FROM inbox WHERE id = $1`, [inboxId]))[0]).toEqual(applied);
  }, 30_000);

  it("lists deferred deliveries on request, newest first, a page at a time", async () => {
    const before = (await asAdmin(svc.http.get("/api/inbox/deliveries?status=deferred&limit=100")).expect(200)).body.items.length;
    for (let i = 0; i < 3; i++) await postSigned(svc, recording(newCall(`+1415555080${i}`), sid("RE"))).expect(204);
    await waitFor(async () => (await asAdmin(svc.http.get("/api/inbox/deliveries?status=deferred&limit=100")).expect(200)).body.items.length === before + 3, { what: "deferred" });
    const first = await asAdmin(svc.http.get("/api/inbox/deliveries?status=deferred&limit=2")).expect(200);
    expect(first.body.items).toHaveLength(2);
    const second = await asAdmin(svc.http.get(`/api/inbox/deliveries?status=deferred&limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`)).expect(200);
    const ids = [...first.body.items, ...second.body.items].map((d: { id: string }) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    const times = [...first.body.items, ...second.body.items].map((d: { receivedAt: string }) => d.receivedAt);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it("refuses other roles, bad filters and unknown deliveries, and changes nothing", async () => {
    const supervisor = await svc.signIn("supervisor");
    const { inboxId } = await parkedRecording();
    await svc.http.get("/api/inbox/deliveries").expect(401);
    await svc.http.get("/api/inbox/deliveries").set("authorization", `Bearer ${supervisor.token}`).expect(403);
    await svc.http.post(`/api/inbox/deliveries/${inboxId}/retry`).set("authorization", `Bearer ${supervisor.token}`).expect(403);
    expect((await asAdmin(svc.http.get("/api/inbox/deliveries?status=done")).expect(400)).body.error.code).toBe("validation_failed");
    await asAdmin(svc.http.get("/api/inbox/deliveries?sort=x")).expect(400);
    await asAdmin(svc.http.get("/api/inbox/deliveries/not-a-uuid")).expect(404);
    await asAdmin(svc.http.post("/api/inbox/deliveries/00000000-0000-4000-8000-000000000000/retry")).expect(404);
    expect((await q(`SELECT status, attempts, failures FROM inbox WHERE id = $1`, [inboxId]))[0]).toEqual({ status: "failed", attempts: 12, failures: 10 });
  });
});
