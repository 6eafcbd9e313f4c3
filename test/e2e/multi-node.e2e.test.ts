import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import request from "supertest";
import twilio from "twilio";
import { io as connect, type Socket } from "socket.io-client";
import { dropQueueKeys } from "../../scripts/drop-queue-keys";
import { hashPassword } from "../../src/crm";
import { createTestDatabase, type TestDatabase } from "../support/test-db";
import { redisUrl, usesRealServices } from "../support/test-service";
import { freePort } from "../support/free-port";
import { waitFor } from "../support/wait-for";

/**
 * Real-services pass only: two service processes on one PostgreSQL and one Redis. A webhook
 * received by the first pops on an agent whose socket is connected to the second.
 */
const suite = usesRealServices() && redisUrl() ? describe : describe.skip;
const root = path.resolve(__dirname, "../..");
const TOKEN = "multi-node-twilio-token";

suite("two processes, one cluster", () => {
  let db: TestDatabase;
  const procs: ChildProcess[] = [];
  let socket: Socket | undefined;
  let prefix: string | undefined;

  beforeAll(() => {
    execFileSync(process.execPath, [path.join(root, "scripts/build-if-stale.js")], { cwd: root, stdio: "inherit" });
  }, 120_000);

  afterAll(async () => {
    socket?.disconnect();
    await Promise.all(procs.map((p) => new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : (p.once("exit", () => r()), p.kill("SIGTERM"))))));
    await db?.drop();
    if (prefix) await dropQueueKeys(redisUrl()!, prefix);
  });

  it("a webhook received by process A pops on an agent connected to process B", async () => {
    db = await createTestDatabase();
    prefix = `mn${randomBytes(4).toString("hex")}`;
    const start = async (role: "all" | "web") => {
      const port = await freePort();
      const child = spawn(process.execPath, [path.join(root, "dist/src/main.js")], {
        cwd: root,
        env: {
          PATH: process.env.PATH,
          PORT: String(port),
          PUBLIC_URL: `http://127.0.0.1:${port}`,
          DATABASE_URL: db.url,
          REDIS_URL: redisUrl(),
          QUEUE_PREFIX: prefix,
          SERVICE_ROLE: role,
          JWT_SECRET: "multi-node-secret-multi-node-secret-1234",
          TWILIO_AUTH_TOKEN: TOKEN,
          LOG_LEVEL: "warn",
          PRESENCE_CHECK_SECONDS: "5",
        },
        stdio: ["ignore", "ignore", "inherit"],
      });
      procs.push(child);
      const url = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(`${url}/readyz`)).ok, { timeoutMs: 30_000, what: `${role} process ready` });
      return url;
    };
    const a = await start("all");
    const b = await start("web");

    const { Client } = await import("pg");
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    const [{ id: agentId }] = (
      await pg.query(`INSERT INTO users (email, name, role, password_hash, dial_target) VALUES ('mn@example.test', 'Multi Node', 'agent', $1, 'client:mn') RETURNING id`, [
        await hashPassword("multi node password"),
      ])
    ).rows;

    const login = await request(b).post("/api/auth/login").send({ email: "mn@example.test", password: "multi node password" }).expect(200);
    socket = connect(b, { auth: { token: login.body.token }, transports: ["websocket"], reconnection: false });
    const pops: Array<{ popId: string; contact: { phones: string[] } }> = [];
    socket.on("screen-pop", (pop, ack) => {
      pops.push(pop);
      ack?.({ ok: true });
    });
    await new Promise<void>((resolve, reject) => socket!.once("connect", () => resolve()).once("connect_error", reject));
    await waitFor(async () => (await pg.query(`SELECT presence FROM users WHERE id = $1`, [agentId])).rows[0].presence === "available", { what: "available" });

    const params = { AccountSid: `AC${"2".repeat(32)}`, CallSid: `CA${randomBytes(16).toString("hex")}`, From: "+14155550321", To: "+15005550100", CallStatus: "ringing", Direction: "inbound" };
    const signature = twilio.getExpectedTwilioSignature(TOKEN, `${a}/webhooks/twilio/voice`, params);
    const twiml = await request(a).post("/webhooks/twilio/voice").type("form").set("x-twilio-signature", signature).send(params).expect(200);
    expect(twiml.text).toContain(">mn</Client>");

    await waitFor(() => pops.length === 1, { timeoutMs: 15_000, what: "pop on the agent connected to B" });
    expect(pops[0]!.contact.phones).toEqual(["+14155550321"]);
    await waitFor(async () => (await pg.query(`SELECT status FROM screen_pops WHERE id = $1`, [pops[0]!.popId])).rows[0]?.status === "acked", { what: "ack across processes" });

    // A's presence check sees the agent's connection on B: they stay available.
    const presenceChecks = async () => {
      const m = (await request(a).get("/metrics").expect(200)).text.match(/jobs_processed_total\{job="maintenance.presence",result="done"\} (\d+)/);
      return Number(m?.[1] ?? 0);
    };
    const checksBefore = await presenceChecks();
    await waitFor(async () => (await presenceChecks()) > checksBefore, { timeoutMs: 20_000, what: "a presence check by A" });
    const presence = async () => (await pg.query(`SELECT presence FROM users WHERE id = $1`, [agentId])).rows[0].presence;
    expect(await presence()).toBe("available");

    // B dies without a word: nothing of B's takes the agent offline, A's presence check does.
    const bProcess = procs[1]!;
    bProcess.kill("SIGKILL");
    await new Promise<void>((resolve) => (bProcess.exitCode !== null || bProcess.signalCode !== null ? resolve() : bProcess.once("exit", () => resolve())));
    await waitFor(async () => (await presence()) === "offline", { timeoutMs: 60_000, what: "the agent of the dead process offline" });
    await pg.end();
  }, 180_000);
});
