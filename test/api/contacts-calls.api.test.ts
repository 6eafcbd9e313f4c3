import { startTestService, type TestService } from "../support/test-service";
import { answeredCallbacks, drainInbox, missedCallbacks, newCall, postSigned, voice, type Delivery } from "../support/twilio";

let svc: TestService;
let agentToken: string;
let contactId: string;

async function send(deliveries: Delivery[]) {
  for (const d of deliveries) await postSigned(svc, d);
}
const get = (path: string, token = agentToken) => svc.http.get(path).set("authorization", `Bearer ${token}`);

beforeAll(async () => {
  svc = await startTestService({ role: "web" });
  const a = await svc.signIn("agent", { dialTarget: "client:reader" });
  agentToken = a.token;
  await svc.container.ds.query(`UPDATE users SET presence = 'available' WHERE id = $1`, [a.userId]);
  const answered = newCall("+14155550101");
  const missed = newCall("+14155550101");
  await send([voice(answered, { CallerName: "Grace Hopper" }), ...answeredCallbacks(answered, "client:reader")]);
  await send([voice(missed), ...missedCallbacks(missed, "client:reader")]);
  for (let i = 0; i < 3; i++) {
    const other = newCall(`+1415555020${i}`);
    await send([voice(other, { CallerName: `Other ${i}` }), ...missedCallbacks(other, "client:reader")]);
  }
  await drainInbox(svc);
  contactId = (await svc.container.ds.query(`SELECT contact_id FROM contact_phones WHERE e164 = '+14155550101'`))[0].contact_id;
});
afterAll(async () => svc?.close());

describe("GET /api/contacts", () => {
  it("finds a contact by a phone in any format", async () => {
    for (const phone of ["(415) 555-0101", "+1 415 555 0101", "4155550101"]) {
      const res = await get(`/api/contacts?phone=${encodeURIComponent(phone)}`).expect(200);
      expect(res.body.items).toEqual([expect.objectContaining({ id: contactId, name: "Grace Hopper", phones: ["+14155550101"] })]);
    }
    expect((await get("/api/contacts?phone=garbage").expect(200)).body).toEqual({ items: [], nextCursor: null });
  });

  it("finds by name prefix, case-insensitively", async () => {
    const res = await get("/api/contacts?q=grace").expect(200);
    expect(res.body.items.map((c: { id: string }) => c.id)).toEqual([contactId]);
  });

  it("pages with a cursor, newest first, without overlap or gaps", async () => {
    const all = (await get("/api/contacts?limit=100").expect(200)).body.items.map((c: { id: string }) => c.id);
    expect(all).toHaveLength(4);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await get(`/api/contacts?limit=1${cursor ? `&cursor=${cursor}` : ""}`).expect(200);
      seen.push(...res.body.items.map((c) => c.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
  });

  it("refuses unknown parameters and foreign cursors with 400", async () => {
    expect((await get("/api/contacts?owner=me").expect(400)).body.error.code).toBe("validation_failed");
    expect((await get("/api/contacts?cursor=bm9wZQ").expect(400)).body.error.code).toBe("validation_failed");
  });

  it("the contact page carries its calls, deals, tasks and touches", async () => {
    const res = await get(`/api/contacts/${contactId}`).expect(200);
    expect(res.body).toMatchObject({ id: contactId, name: "Grace Hopper", phones: ["+14155550101"], attribution: { firstTouch: null, lastTouch: null } });
    expect(res.body.calls.map((c: { outcome: string }) => c.outcome).sort()).toEqual(["answered", "missed"]);
    expect(res.body.calls.find((c: { outcome: string }) => c.outcome === "answered").hasRecording).toBe(true);
    expect(res.body.deals).toEqual([expect.objectContaining({ contactId, stage: "New lead", status: "open" })]);
    expect(res.body.tasks).toEqual([expect.objectContaining({ type: "call_back", status: "open" })]);
  });

  it("answers 404 for an unknown or malformed id", async () => {
    await get("/api/contacts/00000000-0000-4000-8000-000000000000").expect(404);
    await get("/api/contacts/not-an-id").expect(404);
  });
});

describe("GET /api/calls", () => {
  it("filters by contact and outcome and returns the contract's Call", async () => {
    const res = await get(`/api/calls?contactId=${contactId}&outcome=missed`).expect(200);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({
      direction: "inbound",
      from: "+14155550101",
      status: "completed",
      outcome: "missed",
      answeredBy: null,
      contactId,
      recording: null,
      attribution: null,
    });
    for (const key of ["id", "providerCallId", "to", "startedAt", "answeredAt", "endedAt", "durationSec"]) expect(res.body.items[0]).toHaveProperty(key);
  });

  it("GET /api/calls/:id includes the recording", async () => {
    const [answered] = (await get(`/api/calls?contactId=${contactId}&outcome=answered`).expect(200)).body.items;
    const res = await get(`/api/calls/${answered.id}`).expect(200);
    expect(res.body.recording).toEqual({ durationSec: 40, status: "completed" });
    expect(res.body.answeredBy).toEqual(expect.any(String));
  });

  it("refuses bad filters with 400", async () => {
    await get("/api/calls?outcome=maybe").expect(400);
    await get("/api/calls?from=yesterday").expect(400);
  });
});

describe("who may read", () => {
  it.each(["/api/contacts", "/api/calls"])("a marketer is refused %s with 403 (no personal data)", async (path) => {
    const { token } = await svc.signIn("marketer");
    expect((await get(path, token).expect(403)).body.error.code).toBe("forbidden");
  });

  it.each(["/api/contacts", "/api/calls"])("no token is refused %s with 401", async (path) => {
    await svc.http.get(path).expect(401);
  });

  it("supervisors and admins may read", async () => {
    for (const role of ["supervisor", "admin"] as const) {
      const { token } = await svc.signIn(role);
      await get("/api/calls", token).expect(200);
      await get("/api/contacts", token).expect(200);
    }
  });
});

describe("GET /api/deals", () => {
  it("lists a contact's deals with the contract's fields; marketers are refused", async () => {
    const res = await get(`/api/deals?contactId=${contactId}`).expect(200);
    expect(res.body.items).toEqual([expect.objectContaining({ contactId, pipelineId: expect.any(String), stage: "New lead", amount: null, status: "open" })]);
    await get("/api/deals?status=maybe").expect(400);
    const { token } = await svc.signIn("marketer");
    await get("/api/deals", token).expect(403);
  });
});

describe("notes and dispositions", () => {
  it("an agent adds a note to a contact and to a call; both show on the contact page", async () => {
    const [call] = (await get(`/api/calls?contactId=${contactId}&outcome=answered`)).body.items;
    const onContact = await svc.http.post(`/api/contacts/${contactId}/notes`).set("authorization", `Bearer ${agentToken}`).send({ body: "Prefers mornings" }).expect(201);
    const onCall = await svc.http.post(`/api/calls/${call.id}/notes`).set("authorization", `Bearer ${agentToken}`).send({ body: "Asked for a quote" }).expect(201);
    expect(onCall.body).toMatchObject({ contactId, callId: call.id, body: "Asked for a quote" });
    const page = await get(`/api/contacts/${contactId}`).expect(200);
    expect(page.body.notes.map((n: { id: string }) => n.id).sort()).toEqual([onContact.body.id, onCall.body.id].sort());
  });

  it("refuses empty or unknown note fields (400), unknown records (404) and marketers (403)", async () => {
    const post = (path: string, body: object, token = agentToken) => svc.http.post(path).set("authorization", `Bearer ${token}`).send(body);
    await post(`/api/contacts/${contactId}/notes`, { body: "  " }).expect(400);
    await post(`/api/contacts/${contactId}/notes`, { body: "x", pinned: true }).expect(400);
    await post("/api/contacts/00000000-0000-4000-8000-000000000000/notes", { body: "x" }).expect(404);
    const { token } = await svc.signIn("marketer");
    await post(`/api/contacts/${contactId}/notes`, { body: "x" }, token).expect(403);
  });

  it("the agent who handled the call sets its disposition; another agent cannot; a supervisor can", async () => {
    const [call] = (await get(`/api/calls?contactId=${contactId}&outcome=answered`)).body.items;
    const put = (token: string, body: object) => svc.http.put(`/api/calls/${call.id}/disposition`).set("authorization", `Bearer ${token}`).send(body);
    expect((await put(agentToken, { disposition: "interested" }).expect(200)).body).toEqual({ callId: call.id, disposition: "interested" });
    const other = await svc.signIn("agent");
    await put(other.token, { disposition: "sale" }).expect(403);
    await put(agentToken, { disposition: "maybe" }).expect(400);
    const sup = await svc.signIn("supervisor");
    await put(sup.token, { disposition: "sale" }).expect(200);
    expect((await get(`/api/calls/${call.id}`)).body.disposition).toBe("sale");
    const history = await svc.http.get(`/api/audit?entity=call&id=${call.id}&limit=100`).set("authorization", `Bearer ${sup.token}`).expect(200);
    const byPeople = history.body.items.filter((h: { actor: { type: string } }) => h.actor.type === "user");
    expect(byPeople.map((h: { after: { disposition: string } }) => h.after.disposition)).toEqual(["sale", "interested"]);
  });

  it("the ingest's changes to a call are in its history too: created, then each change with before and after", async () => {
    const [call] = (await get(`/api/calls?contactId=${contactId}&outcome=answered`)).body.items;
    const sup = await svc.signIn("supervisor");
    const history = await svc.http.get(`/api/audit?entity=call&id=${call.id}&limit=100`).set("authorization", `Bearer ${sup.token}`).expect(200);
    const ingest = history.body.items.filter((h: { actor: { type: string } }) => h.actor.type === "system").reverse();
    expect(ingest[0]).toMatchObject({ action: "create", after: expect.objectContaining({ status: "ringing", contactId }) });
    const answered = ingest.find((h: { after: { outcome?: string } }) => h.after.outcome === "answered");
    expect(answered).toMatchObject({ action: "update", before: expect.objectContaining({ outcome: null }) });
    expect(ingest.at(-1).after).toMatchObject({ status: "completed" });
  });
});
