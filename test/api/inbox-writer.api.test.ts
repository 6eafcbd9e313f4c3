import { startTestService, type TestService } from "../support/test-service";
import { newCall, parentStatus, postSigned } from "../support/twilio";

let svc: TestService;
beforeAll(async () => (svc = await startTestService({ role: "web" })));
afterAll(async () => svc?.close());

describe("group commit of the inbox", () => {
  it("writes a burst of concurrent deliveries, each once, and answers each as its own", async () => {
    const calls = Array.from({ length: 40 }, (_, i) => newCall(`+1415558${String(1000 + i)}`));
    const deliveries = calls.map((c) => parentStatus(c, "completed", { CallDuration: "9" }));
    // Every delivery twice, all at once: redeliveries inside one batch and across batches.
    const answers = await Promise.all([...deliveries, ...deliveries].map((d) => postSigned(svc, d)));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 204));
    const rows = await svc.container.ds.query(`SELECT delivery_key FROM inbox`);
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((r: { delivery_key: string }) => r.delivery_key)).size).toBe(40);
  });

  it("one delivery the database refuses fails alone, not the deliveries batched with it", async () => {
    const good = Array.from({ length: 12 }, (_, i) => parentStatus(newCall(`+1415559${String(1000 + i)}`), "completed"));
    // PostgreSQL cannot store a NUL character in jsonb: this payload is refused.
    const bad = parentStatus(newCall("+14155599999"), "completed", { CallerName: "nul\u0000name" });
    const answers = await Promise.all([...good.slice(0, 6), bad, ...good.slice(6)].map((d) => postSigned(svc, d)));
    expect(answers.map((a) => a.status)).toEqual([...Array(6).fill(204), 503, ...Array(6).fill(204)]);
    const keys = good.map((d) => d.params.CallSid);
    const rows = await svc.container.ds.query(`SELECT count(*)::int AS n FROM inbox WHERE payload->'params'->>'CallSid' = ANY($1)`, [keys]);
    expect(rows).toEqual([{ n: 12 }]);
  });
});
