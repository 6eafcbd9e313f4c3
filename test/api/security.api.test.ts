import { startTestService, type TestService } from "../support/test-service";

describe("sign-in lockout", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ role: "web", env: { LOGIN_MAX_FAILURES: "3", LOGIN_LOCKOUT_MINUTES: "15" } });
  });
  afterAll(async () => svc?.close());

  const login = (email: string, password: string) => svc.http.post("/api/auth/login").send({ email, password });

  it("locks an account after repeated failures, refusing even the right password until the lock ends", async () => {
    const { email } = await svc.signIn("agent");
    const right = "correct horse battery";
    await login(email, "wrong-1").expect(401);
    await login(email, "wrong-2").expect(401);
    const third = await login(email, "wrong-3").expect(423);
    expect(third.body.error.code).toBe("account_locked");
    await login(email, right).expect(423);

    // The lock ends: the right password works again and the count starts over.
    await svc.container.ds.query(`UPDATE users SET locked_until = now() - interval '1 second' WHERE email = $1`, [email]);
    await login(email, right).expect(200);
    expect(await svc.container.ds.query(`SELECT failed_logins, locked_until FROM users WHERE email = $1`, [email])).toEqual([{ failed_logins: 0, locked_until: null }]);
  });

  it("a success in between resets the count", async () => {
    const { email } = await svc.signIn("agent");
    await login(email, "wrong").expect(401);
    await login(email, "wrong").expect(401);
    await login(email, "correct horse battery").expect(200);
    await login(email, "wrong").expect(401);
    await login(email, "wrong").expect(401);
    await login(email, "correct horse battery").expect(200);
  });

  it("answers 400 to characters PostgreSQL cannot store (found by the fuzzer)", async () => {
    const res = await login("\u0000", "x").expect(400);
    expect(res.body.error.code).toBe("validation_failed");
  });

  it("says nothing different for an unknown email", async () => {
    for (let i = 0; i < 4; i++) expect((await login("nobody@example.test", "x")).status).toBe(401);
  });
});

describe("API_ALLOWED_IPS", () => {
  it("refuses /api to other addresses, but not the website's session route, health or the API document", async () => {
    const svc = await startTestService({ role: "web", env: { API_ALLOWED_IPS: "10.0.0.0/8,192.168.1.7" } });
    try {
      const refused = await svc.http.post("/api/auth/login").send({ email: "a@b.c", password: "x" }).expect(403);
      expect(refused.body.error.message).toContain("address");
      await svc.http.get("/api/contacts").expect(403);
      await svc.http.get("/healthz").expect(200);
      await svc.http.get("/api/openapi.json").expect(200);
      await svc.http.post("/api/tracking/sessions").send({ pool: "none", landingPage: "https://shop.example.com/" }).expect(404);
    } finally {
      await svc.close();
    }
  });

  it("lets listed addresses in (loopback here)", async () => {
    const svc = await startTestService({ role: "web", env: { API_ALLOWED_IPS: "127.0.0.1/32,::1" } });
    try {
      await svc.http.post("/api/auth/login").send({ email: "a@b.c", password: "x" }).expect(401);
    } finally {
      await svc.close();
    }
  });
});
