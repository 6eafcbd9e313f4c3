import { startTestService, type TestService } from "../support/test-service";

let svc: TestService;
let supervisor: string;
const q = (sql: string, params: unknown[] = []) => svc.container.ds.query(sql, params);
const upload = (body: string | Buffer, token = supervisor, type = "text/csv") =>
  svc.http.post("/api/contacts/import").set("authorization", `Bearer ${token}`).set("content-type", type).send(body);

beforeAll(async () => {
  svc = await startTestService({ role: "web" });
  supervisor = (await svc.signIn("supervisor")).token;
  const agent = (await svc.signIn("agent")).token;
  await svc.http.post("/api/contacts").set("authorization", `Bearer ${agent}`).send({ name: "Existing Person", phones: ["+14155550990"] }).expect(201);
});
afterAll(async () => svc?.close());

const MESSY = [
  "\uFEFFName,E-mail,Company,Phone,Phone 2",
  "Ada Lovelace,ADA@example.com,Engines,(415) 555-0981,",
  "Grace Hopper,grace@example.com,,+1 415 555 0982;415.555.0983,",
  "Broken Email,not-an-email,,4155550984,",
  "Bad Phone,,,call me maybe,",
  "Existing Again,,Acme,415-555-0990,",
  "Ada Duplicate,,,,+14155550981",
  ",,,,",
  "Only Email,only@example.com,,,",
  ",,,,+14155550985",
].join("\n");

describe("POST /api/contacts/import", () => {
  it("imports messy rows: normalises phones, merges matches instead of duplicating, reports each bad row", async () => {
    const before = (await q(`SELECT count(*)::int AS n FROM contacts`))[0].n;
    const res = await upload(MESSY).expect(200);
    expect(res.body).toMatchObject({ rows: 8, created: 4, updated: 1, unchanged: 1, failed: 2 });
    expect(res.body.errors).toEqual([
      { row: 4, error: expect.stringContaining("email") },
      { row: 5, error: expect.stringContaining("not a phone number") },
    ]);
    expect((await q(`SELECT count(*)::int AS n FROM contacts`))[0].n).toBe(before + 4);
    const grace = await q(`SELECT c.name, array_agg(p.e164 ORDER BY p.e164) AS phones FROM contacts c JOIN contact_phones p ON p.contact_id = c.id WHERE c.email = 'grace@example.com' GROUP BY c.name`);
    expect(grace).toEqual([{ name: "Grace Hopper", phones: ["+14155550982", "+14155550983"] }]);
    const existing = await q(`SELECT c.name, c.company FROM contacts c JOIN contact_phones p ON p.contact_id = c.id WHERE p.e164 = '+14155550990'`);
    expect(existing).toEqual([{ name: "Existing Person", company: "Acme" }]);
    expect(await q(`SELECT email FROM contacts c JOIN contact_phones p ON p.contact_id = c.id WHERE p.e164 = '+14155550981'`)).toEqual([{ email: "ada@example.com" }]);
  });

  it("changes nothing when the same file is imported again", async () => {
    const contacts = await q(`SELECT id, name, email, company, updated_at FROM contacts ORDER BY id`);
    const audits = (await q(`SELECT count(*)::int AS n FROM audit_log`))[0].n;
    const res = await upload(MESSY).expect(200);
    expect(res.body).toMatchObject({ rows: 8, created: 0, updated: 0, unchanged: 6, failed: 2 });
    expect(await q(`SELECT id, name, email, company, updated_at FROM contacts ORDER BY id`)).toEqual(contacts);
    expect((await q(`SELECT count(*)::int AS n FROM audit_log`))[0].n).toBe(audits);
  });

  it("reports broken encoding per row, and a file with 1,000 bad rows in full", async () => {
    const latin1 = Buffer.concat([Buffer.from("name,phone\n"), Buffer.from([0x4a, 0x6f, 0x73, 0xe9]), Buffer.from(",4155550986\n")]);
    const enc = await upload(latin1).expect(200);
    expect(enc.body).toMatchObject({ rows: 1, created: 0, failed: 1, errors: [{ row: 2, error: "not valid UTF-8 text" }] });

    const bad = ["name,phone", ...Array.from({ length: 1000 }, (_, i) => `Bad ${i},nope-${i}`)].join("\n");
    const res = await upload(bad).expect(200);
    expect(res.body).toMatchObject({ rows: 1000, created: 0, failed: 1000 });
    expect(res.body.errors).toHaveLength(1000);
    expect(res.body.errors[999]).toEqual({ row: 1001, error: expect.stringContaining("nope-999") });
  });

  it("streams thousands of rows through several batches", async () => {
    const rows = ["name,phone", ...Array.from({ length: 2000 }, (_, i) => `Bulk ${i},+1628555${String(i).padStart(4, "0")}`)].join("\n");
    const res = await upload(rows).expect(200);
    expect(res.body).toMatchObject({ rows: 2000, created: 2000, failed: 0 });
    expect((await q(`SELECT count(*)::int AS n FROM contact_phones WHERE e164 LIKE '+1628555%'`))[0].n).toBe(2000);
  });

  it("refuses files without usable columns, other content types and roles that may not import", async () => {
    const res = await upload("foo,bar\n1,2\n").expect(400);
    expect(res.body.error.message).toContain("name, email or phone column");
    await upload("").expect(400);
    await upload('name,phone\n"unclosed,4155550987\n').expect(400);
    await upload('{"name":"x"}', supervisor, "application/json").expect(415);
    await upload("name\nx", (await svc.signIn("agent")).token).expect(403);
  });
});
