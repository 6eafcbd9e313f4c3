import { as as asUser } from "../support/http";
import { startTestService, type TestService } from "../support/test-service";
import { answeredCallbacks, drainInbox, missedCallbacks, newCall, postSigned, voice } from "../support/twilio";

let svc: TestService;
let agent: string;
let supervisor: string;
const q = (sql: string, params: unknown[] = []) => svc.container.ds.query(sql, params);
const as = (token: string) => asUser(svc, token);

beforeAll(async () => {
  svc = await startTestService({ role: "web" });
  agent = (await svc.signIn("agent", { dialTarget: "client:editor" })).token;
  supervisor = (await svc.signIn("supervisor")).token;
});
afterAll(async () => svc?.close());

describe("creating and changing contacts", () => {
  it("creates a contact with normalised phones, and the next call from one of them finds it", async () => {
    const res = await as(agent).post("/api/contacts", { name: "Ada Lovelace", email: "Ada@Example.com", company: "Engines Ltd", phones: ["(415) 555-0901", "+44 20 7946 0958"] }).expect(201);
    expect(res.body).toMatchObject({ name: "Ada Lovelace", email: "ada@example.com", phones: ["+14155550901", "+442079460958"] });
    const call = newCall("+14155550901");
    expect((await postSigned(svc, voice(call))).status).toBe(200);
    await drainInbox(svc);
    const [row] = await q(`SELECT contact_id FROM calls WHERE provider_call_id = $1`, [call.callSid]);
    expect(row.contact_id).toBe(res.body.id);
    const audit = await q(`SELECT action, after FROM audit_log WHERE entity = 'contact' AND entity_id = $1`, [res.body.id]);
    expect(audit).toEqual([{ action: "create", after: expect.objectContaining({ name: "Ada Lovelace" }) }]);
  });

  it("updates fields and replaces phones, auditing before and after", async () => {
    const created = (await as(agent).post("/api/contacts", { name: "Grace", phones: ["+14155550902"] }).expect(201)).body;
    const res = await as(agent).patch(`/api/contacts/${created.id}`, { company: "Navy", phones: ["+14155550903"] }).expect(200);
    expect(res.body).toMatchObject({ name: "Grace", company: "Navy", phones: ["+14155550903"] });
    const [audit] = await q(`SELECT before, after FROM audit_log WHERE entity = 'contact' AND entity_id = $1 AND action = 'update'`, [created.id]);
    expect(audit.before).toMatchObject({ company: null, phones: ["+14155550902"] });
    expect(audit.after).toMatchObject({ company: "Navy", phones: ["+14155550903"] });
  });

  it("refuses a phone that belongs to someone else (409), bad input (400) and unknown fields, changing nothing", async () => {
    const owner = (await as(agent).post("/api/contacts", { name: "Owner", phones: ["+14155550904"] }).expect(201)).body;
    const before = (await q(`SELECT count(*)::int AS n FROM contacts`))[0].n;
    const conflict = await as(agent).post("/api/contacts", { name: "Copycat", phones: ["415-555-0904"] }).expect(409);
    expect(conflict.body.error.code).toBe("conflict");
    await as(agent).post("/api/contacts", { name: "Bad", phones: ["not a phone"] }).expect(400);
    await as(agent).post("/api/contacts", { name: "" }).expect(400);
    await as(agent).post("/api/contacts", { name: "X", ownerId: "00000000-0000-4000-8000-000000000000" }).expect(400);
    await as(agent).post("/api/contacts", { name: "X", isVip: true }).expect(400);
    await as(agent).patch(`/api/contacts/${owner.id}`, {}).expect(400);
    await as(agent).patch(`/api/contacts/00000000-0000-4000-8000-000000000000`, { name: "Nobody" }).expect(404);
    expect((await q(`SELECT count(*)::int AS n FROM contacts`))[0].n).toBe(before);
    await as((await svc.signIn("marketer")).token).post("/api/contacts", { name: "M" }).expect(403);
  });
});

describe("merging contacts", () => {
  it("moves phones, calls, deals and tasks, joins the two open call-backs, and leaves a pointer", async () => {
    const a = newCall("+14155550911");
    const b = newCall("+14155550912");
    for (const c of [a, b]) for (const d of [voice(c), ...missedCallbacks(c, "client:editor")]) await postSigned(svc, d);
    await drainInbox(svc);
    const [ka] = await q(`SELECT contact_id FROM calls WHERE provider_call_id = $1`, [a.callSid]);
    const [kb] = await q(`SELECT contact_id FROM calls WHERE provider_call_id = $1`, [b.callSid]);

    await as(agent).post(`/api/contacts/${ka.contact_id}/merge`, { otherId: kb.contact_id }).expect(403);
    const res = await as(supervisor).post(`/api/contacts/${ka.contact_id}/merge`, { otherId: kb.contact_id }).expect(200);
    expect(res.body.phones.sort()).toEqual(["+14155550911", "+14155550912"]);

    expect(await q(`SELECT DISTINCT contact_id FROM calls WHERE provider_call_id = ANY ($1)`, [[a.callSid, b.callSid]])).toEqual([{ contact_id: ka.contact_id }]);
    expect(await q(`SELECT count(*)::int AS n FROM deals WHERE contact_id = $1`, [ka.contact_id])).toEqual([{ n: 2 }]);
    const tasks = await q(`SELECT status, attempts, cardinality(missed_call_ids) AS misses FROM tasks WHERE contact_id = $1 ORDER BY status DESC`, [ka.contact_id]);
    expect(tasks).toEqual([{ status: "open", attempts: 2, misses: 2 }, { status: "canceled", attempts: 1, misses: 1 }]);

    const gone = await as(agent).get(`/api/contacts/${kb.contact_id}`).expect(404);
    expect(gone.body.error.message).toContain("No such contact");
    expect(await q(`SELECT merged_into_id FROM contacts WHERE id = $1`, [kb.contact_id])).toEqual([{ merged_into_id: ka.contact_id }]);
    // Reports count them as one caller now.
    expect(await q(`SELECT DISTINCT caller_key FROM calls WHERE provider_call_id = ANY ($1)`, [[a.callSid, b.callSid]])).toEqual([{ caller_key: ka.contact_id }]);

    // A later call from the merged-away number belongs to the surviving contact; answering it closes the joined task.
    const again = newCall("+14155550912");
    for (const d of [voice(again), ...answeredCallbacks(again, "client:editor")]) await postSigned(svc, d);
    await drainInbox(svc);
    const [open] = await q(`SELECT count(*)::int AS n FROM tasks WHERE contact_id = $1 AND status = 'open'`, [ka.contact_id]);
    expect(open.n).toBe(0);
    await as(supervisor).post(`/api/contacts/${ka.contact_id}/merge`, { otherId: kb.contact_id }).expect(404);
    await as(supervisor).post(`/api/contacts/${ka.contact_id}/merge`, { otherId: ka.contact_id }).expect(400);
  });
});
