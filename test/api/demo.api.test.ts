import express from "express";
import { mkdtempSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import { io as connect, type Socket } from "socket.io-client";
import twilio from "twilio";
import { as } from "../support/http";
import { drainInbox, legStatuses, newCall, sid, voice } from "../support/twilio";
import { freePort } from "../support/free-port";
import { waitFor } from "../support/wait-for";
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

describe("the demo's stand-in for Twilio's Calls and Streams", () => {
  let svc: TestService;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // The stand-in calls the service back at PUBLIC_URL, so it must be this service's own address.
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    svc = await startTestService({
      demo: true,
      port,
      env: { PUBLIC_URL: url, TWILIO_API_BASE: `${url}/dev/twilio`, DEMO_STEP_MS: "5", OUTBOUND_CALLER_ID: "+15005550100", DATA_DIR: mkdtempSync(join(tmpdir(), "crm-demo-")) },
    });
  });
  afterAll(async () => {
    sockets.forEach((s) => s.disconnect());
    await svc?.close();
  });

  it("plays a click-to-call through: the agent answers, the customer answers, a recording", async () => {
    const agent = await svc.signIn("agent", { dialTarget: "client:demo-agent" });
    const placed = await as(svc, agent.token).post("/api/calls", { to: "+14155550199" }).expect(201);
    const call = await waitFor(
      async () => {
        const c = (await as(svc, agent.token).get(`/api/calls/${placed.body.id}`).expect(200)).body;
        return c.status === "completed" && c.recording ? c : undefined;
      },
      { what: "the demo call to end with a recording" },
    );
    expect(call).toMatchObject({ direction: "outbound", outcome: "answered", answeredBy: agent.userId, recording: { status: "completed" } });
  });

  it("streams tones to the service's Media Streams endpoint while a supervisor listens", async () => {
    const agentUser = await svc.signIn("agent", { dialTarget: "client:demo-listened" });
    const c = newCall("+14155550198");
    const [initiated, ringing, answered] = legStatuses(c, sid("CA"), "client:demo-listened", ["initiated", "ringing", "in-progress"]);
    await svc.container.ds.query(`UPDATE users SET presence = 'available' WHERE id = $1`, [agentUser.userId]);
    for (const d of [voice(c), initiated!, ringing!, answered!]) {
      const signature = twilio.getExpectedTwilioSignature(TEST_TWILIO.authToken, `${svc.container.config.publicUrl}${d.path}`, d.params);
      await svc.http.post(d.path).type("form").set("x-twilio-signature", signature).send(d.params).expect((r) => expect(r.status).toBeLessThan(300));
    }
    await drainInbox(svc);
    const [{ id: callId }] = await svc.container.ds.query(`SELECT id FROM calls WHERE provider_call_id = $1`, [c.callSid]);

    const sup = await svc.signIn("supervisor");
    const socket = connect(svc.url!, { auth: { token: sup.token }, transports: ["websocket"], reconnection: false });
    sockets.push(socket);
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    let bytes = 0;
    socket.on("listen:audio", (a: { audio: Buffer }) => (bytes += a.audio.byteLength));
    const ok = await new Promise<{ ok: boolean }>((resolve) => socket.emit("listen:start", { callId }, resolve));
    expect(ok).toMatchObject({ ok: true });
    await waitFor(() => bytes >= 1600, { what: "demo audio heard" });
    expect(await new Promise((resolve) => socket.emit("listen:stop", { callId }, resolve))).toEqual({ ok: true });
    await waitFor(async () => (await svc.container.ds.query(`SELECT 1 FROM listen_sessions WHERE ended_at IS NULL`)).length === 0, { what: "the session ended" });
  });
});
