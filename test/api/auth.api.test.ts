import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { TokenSigner } from "../../src/crm/auth/tokens";
import { startTestService, TEST_JWT_SECRET, type TestService } from "../support/test-service";

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => svc?.close());

describe("POST /api/auth/login", () => {
  it("when the password is right, then it returns a token and the user", async () => {
    const { email } = await svc.signIn("agent", { dialTarget: "client:alice" });
    const res = await svc.http.post("/api/auth/login").send({ email: email.toUpperCase(), password: "correct horse battery" }).expect(200);
    expect(res.body.token).toMatch(/^ey/);
    expect(res.body.user).toMatchObject({ email, role: "agent", dialTarget: "client:alice" });
    expect(res.body.user.passwordHash).toBeUndefined();
  });

  it("when the password is wrong or the email unknown, then 401 with the same message", async () => {
    const { email } = await svc.signIn("agent");
    const wrong = await svc.http.post("/api/auth/login").send({ email, password: "nope nope nope" }).expect(401);
    const unknown = await svc.http.post("/api/auth/login").send({ email: "ghost@example.test", password: "nope nope nope" }).expect(401);
    expect(wrong.body.error.code).toBe("invalid_credentials");
    expect(unknown.body.error).toEqual(expect.objectContaining({ code: wrong.body.error.code, message: wrong.body.error.message }));
  });

  it("when fields are missing or unknown, then 400 validation_failed", async () => {
    const res = await svc.http.post("/api/auth/login").send({ email: "a@b.c" }).expect(400);
    expect(res.body.error.code).toBe("validation_failed");
    await svc.http.post("/api/auth/login").send({ email: "a@b.c", password: "x", admin: true }).expect(400);
  });
});

describe("GET /api/auth/me", () => {
  it("returns the signed-in user", async () => {
    const { token, userId, email } = await svc.signIn("supervisor");
    const res = await svc.http.get("/api/auth/me").set("authorization", `Bearer ${token}`).expect(200);
    expect(res.body).toEqual({ id: userId, email, name: expect.any(String), role: "supervisor", dialTarget: null });
  });

  it.each([
    ["no header", undefined],
    ["garbage token", "Bearer not-a-token-at-all"],
    ["wrong scheme", "Basic dXNlcjpwYXNz"],
  ])("refuses %s with 401", async (_label, header) => {
    const req = svc.http.get("/api/auth/me");
    if (header) req.set("authorization", header);
    const res = await req.expect(401);
    expect(res.body.error.code).toBe("unauthenticated");
  });

  it("refuses an expired token", async () => {
    const { userId } = await svc.signIn("agent");
    const { token } = await new TokenSigner(TEST_JWT_SECRET, -1).sign(userId, "agent");
    await svc.http.get("/api/auth/me").set("authorization", `Bearer ${token}`).expect(401);
  });

  it("refuses a token with another algorithm or signed with another key", async () => {
    const { userId } = await svc.signIn("admin");
    const unsigned = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${Buffer.from(
      JSON.stringify({ sub: userId, role: "admin", exp: Math.floor(Date.now() / 1000) + 600 }),
    ).toString("base64url")}.`;
    await svc.http.get("/api/auth/me").set("authorization", `Bearer ${unsigned}`).expect(401);
    const foreign = await new SignJWT({ role: "admin" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(userId)
      .setIssuer("callcenter-crm")
      .setAudience("callcenter-crm:agents")
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode("another-secret-another-secret-another"));
    await svc.http.get("/api/auth/me").set("authorization", `Bearer ${foreign}`).expect(401);
  });

  it("refuses our own token for a user that is not there, or whose id is no uuid, or whose role changed", async () => {
    const { userId } = await svc.signIn("agent");
    const signer = new TokenSigner(TEST_JWT_SECRET, 10);
    for (const [sub, role] of [[randomUUID(), "agent"], ["not-a-uuid", "agent"], [userId, "admin"]] as const) {
      const { token } = await signer.sign(sub, role);
      const res = await svc.http.get("/api/auth/me").set("authorization", `Bearer ${token}`).expect(401);
      expect(res.body.error.code).toBe("unauthenticated");
    }
  });
});

describe("POST /api/users", () => {
  it("lets an admin create a user, and audits it", async () => {
    const { token, userId } = await svc.signIn("admin");
    const res = await svc.http
      .post("/api/users")
      .set("authorization", `Bearer ${token}`)
      .send({ email: "New.Agent@example.test", password: "long enough pw", role: "agent", name: "New Agent", dialTarget: "+15551230000" })
      .expect(201);
    expect(res.body).toEqual({ id: expect.any(String), email: "new.agent@example.test", name: "New Agent", role: "agent", dialTarget: "+15551230000" });
    const audit = await svc.container.ds.query(`SELECT actor_type, actor_id, action, after FROM audit_log WHERE entity = 'user' AND entity_id = $1`, [res.body.id]);
    expect(audit).toEqual([{ actor_type: "user", actor_id: userId, action: "create", after: expect.objectContaining({ email: "new.agent@example.test" }) }]);
    await svc.http.post("/api/auth/login").send({ email: "new.agent@example.test", password: "long enough pw" }).expect(200);
  });

  it("answers 409 when the email exists, in any case", async () => {
    const { token } = await svc.signIn("admin");
    const body = { email: "dup@example.test", password: "long enough pw", role: "agent" };
    await svc.http.post("/api/users").set("authorization", `Bearer ${token}`).send(body).expect(201);
    const res = await svc.http.post("/api/users").set("authorization", `Bearer ${token}`).send({ ...body, email: "DUP@example.test" }).expect(409);
    expect(res.body.error.code).toBe("conflict");
  });

  it.each(["agent", "supervisor", "marketer"] as const)("refuses the %s role with 403 and creates nothing", async (role) => {
    const { token } = await svc.signIn(role);
    const res = await svc.http
      .post("/api/users")
      .set("authorization", `Bearer ${token}`)
      .send({ email: `escalate-${role}@example.test`, password: "long enough pw", role: "admin" })
      .expect(403);
    expect(res.body.error.code).toBe("forbidden");
    const rows = await svc.container.ds.query(`SELECT 1 FROM users WHERE email = $1`, [`escalate-${role}@example.test`]);
    expect(rows).toHaveLength(0);
  });

  it("refuses bad input with 400: unknown fields, weak password, bad role, bad dial target", async () => {
    const { token } = await svc.signIn("admin");
    const base = { email: "x@example.test", password: "long enough pw", role: "agent" };
    for (const body of [
      { ...base, isAdmin: true },
      { ...base, password: "short" },
      { ...base, role: "root" },
      { ...base, dialTarget: "javascript:alert(1)" },
      { ...base, email: "not-an-email" },
    ]) {
      const res = await svc.http.post("/api/users").set("authorization", `Bearer ${token}`).send(body).expect(400);
      expect(res.body.error.code).toBe("validation_failed");
    }
  });
});

describe("GET /api/users", () => {
  it("lists the team for supervisors and admins, without password hashes", async () => {
    const { token } = await svc.signIn("supervisor");
    const res = await svc.http.get("/api/users").set("authorization", `Bearer ${token}`).expect(200);
    expect(res.body.items.length).toBeGreaterThan(0);
    expect(res.body.items[0]).toEqual(expect.objectContaining({ id: expect.any(String), role: expect.any(String), presence: expect.any(String), isActive: true }));
    expect(JSON.stringify(res.body)).not.toContain("scrypt$");
  });

  it.each(["agent", "marketer"] as const)("refuses the %s role with 403", async (role) => {
    const { token } = await svc.signIn(role);
    await svc.http.get("/api/users").set("authorization", `Bearer ${token}`).expect(403);
  });
});

describe("API keys", () => {
  it("an admin creates a key once; it authenticates with its role; only a hash is stored", async () => {
    const { token } = await svc.signIn("admin");
    const res = await svc.http.post("/api/api-keys").set("authorization", `Bearer ${token}`).send({ name: "zapier", role: "supervisor" }).expect(201);
    expect(res.body.key).toMatch(/^ck_[a-f0-9]{12}_/);
    const me = await svc.http.get("/api/auth/me").set("authorization", `Bearer ${res.body.key}`).expect(200);
    expect(me.body).toMatchObject({ id: res.body.id, role: "supervisor", kind: "api_key" });
    const [row] = await svc.container.ds.query(`SELECT key_hash FROM api_keys WHERE id = $1`, [res.body.id]);
    expect(res.body.key).not.toContain(row.key_hash);
    const key = res.body.key as string;
    const altered = `${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`; // always another key
    await svc.http.get("/api/auth/me").set("authorization", `Bearer ${altered}`).expect(401);
  });

  it("an API key with a lesser role cannot create users", async () => {
    const { token } = await svc.signIn("admin");
    const { body } = await svc.http.post("/api/api-keys").set("authorization", `Bearer ${token}`).send({ name: "reports", role: "marketer" }).expect(201);
    await svc.http.post("/api/users").set("authorization", `Bearer ${body.key}`).send({ email: "k@example.test", password: "long enough pw", role: "admin" }).expect(403);
  });
});

describe("login rate limit", () => {
  it("after 20 failed attempts from one address, answers 429", async () => {
    let last = 0;
    for (let i = 0; i < 21; i++) {
      last = (await svc.http.post("/api/auth/login").send({ email: "brute@example.test", password: `guess-${i}` })).status;
    }
    expect(last).toBe(429);
  });
});
