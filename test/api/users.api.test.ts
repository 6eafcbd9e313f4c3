import { startTestService, type TestService } from "../support/test-service";

let svc: TestService;
let admin: { token: string; userId: string };
const patch = (id: string, body: object, token = admin.token) => svc.http.patch(`/api/users/${id}`).set("authorization", `Bearer ${token}`).send(body);

beforeAll(async () => {
  svc = await startTestService({ role: "web", env: { LOGIN_MAX_FAILURES: "2" } });
  admin = await svc.signIn("admin");
});
afterAll(async () => svc?.close());

describe("PATCH /api/users/:id", () => {
  it("changes a user, and a deactivated user's token stops working at once", async () => {
    const agent = await svc.signIn("agent");
    await svc.http.get("/api/auth/me").set("authorization", `Bearer ${agent.token}`).expect(200);
    const res = await patch(agent.userId, { name: "Renamed", dialTarget: "client:renamed", isActive: false }).expect(200);
    expect(res.body).toMatchObject({ name: "Renamed", dialTarget: "client:renamed", isActive: false });
    await svc.http.get("/api/auth/me").set("authorization", `Bearer ${agent.token}`).expect(401);
    const [audit] = await svc.container.ds.query(`SELECT before, after FROM audit_log WHERE entity = 'user' AND entity_id = $1 AND action = 'update'`, [agent.userId]);
    expect(audit.before).toMatchObject({ isActive: true });
    expect(audit.after).toMatchObject({ isActive: false, name: "Renamed" });
  });

  it("sets a new password (audited without it) and lifts a lockout", async () => {
    const agent = await svc.signIn("agent");
    const login = (password: string) => svc.http.post("/api/auth/login").send({ email: agent.email, password });
    await login("wrong").expect(401);
    await login("wrong").expect(423);
    await patch(agent.userId, { password: "a brand new secret", unlock: true }).expect(200);
    await login("a brand new secret").expect(200);
    const audits = await svc.container.ds.query(`SELECT after::text AS a FROM audit_log WHERE entity = 'user' AND entity_id = $1`, [agent.userId]);
    expect(audits.map((r: { a: string }) => r.a).join()).not.toContain("a brand new secret");
  });

  it("never demotes or deactivates the last active admin, and is for admins only", async () => {
    const res = await patch(admin.userId, { role: "agent" }).expect(409);
    expect(res.body.error.message).toContain("last active admin");
    await patch(admin.userId, { isActive: false }).expect(409);
    const second = await svc.signIn("admin");
    await patch(admin.userId, { role: "supervisor" }).expect(200);
    await patch(second.userId, { isActive: false }, second.token).expect(409);
    const supervisor = await svc.signIn("supervisor");
    await patch(supervisor.userId, { name: "x" }, supervisor.token).expect(403);
    await patch(supervisor.userId, { role: "king" }, second.token).expect(400);
    await patch(supervisor.userId, {}, second.token).expect(400);
    await patch("00000000-0000-4000-8000-000000000000", { name: "x" }, second.token).expect(404);
  });
});
