import express from "express";
import { mkdtempSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import { DEMO_USERS } from "../../src/demo";
import { demoMediaRouter } from "../../src/telephony";
import { startTestService, TEST_TWILIO, type TestService } from "../support/test-service";

describe("the demo (embedded mode with no Twilio account)", () => {
  let svc: TestService;
  let plain: TestService;

  beforeAll(async () => {
    svc = await startTestService({ role: "web", demo: true, env: { DATA_DIR: mkdtempSync(join(tmpdir(), "crm-demo-")) } });
    plain = await startTestService({ role: "web" });
  });
  afterAll(async () => {
    await svc?.close();
    await plain?.close();
  });

  const seed = (s: TestService, token: string) => s.http.post("/dev/seed").set("authorization", `Bearer ${token}`);

  it("POST /dev/seed needs the development token, and exists only in demo mode", async () => {
    await seed(svc, "wrong-token").expect(401);
    await svc.http.post("/dev/seed").expect(401);
    await seed(plain, TEST_TWILIO.authToken).expect(404);
  });

  it("adds the demo users and tracking numbers once, however often it is called", async () => {
    const first = await seed(svc, TEST_TWILIO.authToken).expect(200);
    const again = await seed(svc, TEST_TWILIO.authToken).expect(200);
    expect(again.body).toEqual(first.body);
    expect(first.body.password).toMatch(/^demo-.{8}$/);
    for (const u of DEMO_USERS) {
      const login = await svc.http.post("/api/auth/login").send({ email: u.email, password: first.body.password }).expect(200);
      expect(login.body.user.role).toBe(u.role);
    }
    const q = (sql: string) => svc.container.ds.query(sql);
    expect(await q(`SELECT count(*)::int AS n FROM users WHERE email LIKE '%@example.com'`)).toEqual([{ n: DEMO_USERS.length }]);
    expect(await q(`SELECT count(*)::int AS n, count(pool_id)::int AS pooled FROM tracking_numbers`)).toEqual([{ n: 5, pooled: 3 }]);
  });
});

describe("the demo's recording media (a stand-in for Twilio's)", () => {
  let server: Server;
  let http: ReturnType<typeof request>;
  const basic = `Basic ${Buffer.from(`${TEST_TWILIO.accountSid}:${TEST_TWILIO.authToken}`).toString("base64")}`;
  const path = `/2010-04-01/Accounts/${TEST_TWILIO.accountSid}/Recordings/RE${"a".repeat(32)}.mp3`;

  beforeAll(async () => {
    const app = express().use(demoMediaRouter({ ...TEST_TWILIO, dir: mkdtempSync(join(tmpdir(), "crm-demo-media-")) }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    http = request(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(() => new Promise((r) => server?.close(r)));

  it("asks for the account's credentials, as Twilio does", async () => {
    await http.get(path).expect(401);
    await http.get(path.replace(TEST_TWILIO.accountSid, `AC${"9".repeat(32)}`)).set("authorization", basic).expect(401);
    await http.get(path.replace(/RE[a]+/, "RE-nope")).set("authorization", basic).expect(404);
  });

  it("serves a WAV per recording, with ranges for seeking", async () => {
    const full = await http.get(path).set("authorization", basic).expect(200);
    expect(full.headers["content-type"]).toBe("audio/wav");
    expect(Number(full.headers["content-length"])).toBe(44 + 8000 * 24 * 2);
    const part = await http.get(path).set("authorization", basic).set("range", "bytes=0-3").expect(206);
    expect(part.headers["content-range"]).toBe(`bytes 0-3/${44 + 8000 * 24 * 2}`);
    expect(Buffer.from(part.body as Buffer).toString("latin1")).toBe("RIFF");
  });
});

describe("the console page", () => {
  let svc: TestService;
  beforeAll(async () => (svc = await startTestService({ role: "web" })));
  afterAll(async () => svc?.close());

  it("is served at / with a policy that allows only its own origin, and its assets are cached for good", async () => {
    const page = await svc.http.get("/").expect(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.headers["cache-control"]).toBe("no-cache");
    const csp = page.headers["content-security-policy"] as string;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("upgrade-insecure-requests");
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const asset = await svc.http.get(script!).expect(200);
    expect(asset.headers["cache-control"]).toMatch(/immutable/);
    await svc.http.get("/assets/nope.js").expect(404);
  });
});
