import { as as asUser } from "../support/http";
import { startTestService, type TestService } from "../support/test-service";

let svc: TestService;
let agent: { token: string; userId: string };
let otherAgent: { token: string };
let supervisor: { token: string };
let contactId: string;
let stages: Record<string, string>;
const q = (sql: string, params: unknown[] = []) => svc.container.ds.query(sql, params);
const as = (token: string) => asUser(svc, token);

beforeAll(async () => {
  svc = await startTestService({ role: "web" });
  agent = await svc.signIn("agent");
  otherAgent = await svc.signIn("agent");
  supervisor = await svc.signIn("supervisor");
  contactId = (await as(agent.token).post("/api/contacts", { name: "Buyer", phones: ["+14155550951"] }).expect(201)).body.id;
  const pipelines = (await as(agent.token).get("/api/pipelines").expect(200)).body.items;
  const sales = pipelines.find((p: { isDefault: boolean }) => p.isDefault);
  stages = Object.fromEntries(sales.stages.map((s: { name: string; id: string }) => [s.name, s.id]));
});
afterAll(async () => svc?.close());

describe("working a deal", () => {
  it("opens in the default pipeline's first stage, moves through stages with history, and is won with an amount", async () => {
    const deal = (await as(agent.token).post("/api/deals", { contactId, title: "10 widgets" }).expect(201)).body;
    expect(deal).toMatchObject({ stage: "New lead", status: "open", ownerId: agent.userId, amount: null });

    await as(agent.token).patch(`/api/deals/${deal.id}`, { stageId: stages.Qualified }).expect(200);
    const refused = await as(agent.token).patch(`/api/deals/${deal.id}`, { stageId: stages.Won }).expect(400);
    expect(refused.body.error.message).toContain("amount");
    const won = (await as(agent.token).patch(`/api/deals/${deal.id}`, { stageId: stages.Won, amount: 1250.5 }).expect(200)).body;
    expect(won).toMatchObject({ stage: "Won", status: "won", amount: "1250.50", closedAt: expect.any(String) });

    const history = (await as(agent.token).get(`/api/deals/${deal.id}/history`).expect(200)).body.items;
    expect(history.map((h: { fromStage: string | null; toStage: string }) => [h.fromStage, h.toStage])).toEqual([
      [null, "New lead"],
      ["New lead", "Qualified"],
      ["Qualified", "Won"],
    ]);
    const audit = await q(`SELECT action, before->>'status' AS b, after->>'status' AS a FROM audit_log WHERE entity = 'deal' AND entity_id = $1 ORDER BY id`, [deal.id]);
    expect(audit).toEqual([
      { action: "create", b: null, a: "open" },
      { action: "update", b: "open", a: "open" },
      { action: "update", b: "open", a: "won" },
    ]);
  });

  it("is lost with a reason, and reopened by moving back to an open stage", async () => {
    const deal = (await as(agent.token).post("/api/deals", { contactId, title: "Maybe" }).expect(201)).body;
    const lost = (await as(agent.token).patch(`/api/deals/${deal.id}`, { stageId: stages.Lost, lostReason: "Too expensive" }).expect(200)).body;
    expect(lost).toMatchObject({ status: "lost", lostReason: "Too expensive", closedAt: expect.any(String) });
    const reopened = (await as(agent.token).patch(`/api/deals/${deal.id}`, { stageId: stages.Proposal }).expect(200)).body;
    expect(reopened).toMatchObject({ status: "open", lostReason: null, closedAt: null });
  });

  it("lets agents change only their own deals; supervisors any", async () => {
    const deal = (await as(agent.token).post("/api/deals", { contactId, title: "Mine" }).expect(201)).body;
    await as(otherAgent.token).patch(`/api/deals/${deal.id}`, { title: "Stolen" }).expect(403);
    await as(agent.token).patch(`/api/deals/${deal.id}`, { ownerId: null }).expect(403);
    await as(supervisor.token).patch(`/api/deals/${deal.id}`, { title: "Renamed by the boss" }).expect(200);
  });

  it("refuses stages of another pipeline, unknown fields and missing deals, changing nothing", async () => {
    const admin = (await svc.signIn("admin")).token;
    const pipeline = (await as(admin).post("/api/pipelines", { name: "Renewals", stages: [{ name: "Due" }, { name: "Renewed", kind: "won" }, { name: "Churned", kind: "lost" }] }).expect(201)).body;
    await as(agent.token).post("/api/pipelines", { name: "Nope", stages: [{ name: "a" }, { name: "b", kind: "won" }] }).expect(403);
    await as(admin).post("/api/pipelines", { name: "Renewals", stages: [{ name: "a" }, { name: "b", kind: "won" }] }).expect(409);
    await as(admin).post("/api/pipelines", { name: "Bad", stages: [{ name: "only" }] }).expect(400);
    const deal = (await as(agent.token).post("/api/deals", { contactId, title: "Sales deal" }).expect(201)).body;
    const before = await q(`SELECT stage_id, status, title FROM deals WHERE id = $1`, [deal.id]);
    await as(agent.token).patch(`/api/deals/${deal.id}`, { stageId: pipeline.stages[0].id }).expect(400);
    await as(agent.token).patch(`/api/deals/${deal.id}`, { status: "won" }).expect(400);
    await as(agent.token).patch(`/api/deals/${deal.id}`, {}).expect(400);
    await as(agent.token).patch(`/api/deals/${deal.id}`, { amount: -5 }).expect(400);
    await as(agent.token).patch(`/api/deals/00000000-0000-4000-8000-000000000000`, { title: "x" }).expect(404);
    expect(await q(`SELECT stage_id, status, title FROM deals WHERE id = $1`, [deal.id])).toEqual(before);
    await as(agent.token).post("/api/deals", { contactId: "00000000-0000-4000-8000-000000000000", title: "x" }).expect(400);
    const renewal = (await as(agent.token).post("/api/deals", { contactId, title: "Renew", pipelineId: pipeline.id }).expect(201)).body;
    expect(renewal).toMatchObject({ pipelineId: pipeline.id, stage: "Due" });
  });
});
