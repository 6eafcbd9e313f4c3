import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyStandardWebhook } from "../../src/webhooks";
import { startTestService, type TestService } from "../support/test-service";
import { drainInbox, missedCallbacks, newCall, postSigned, voice } from "../support/twilio";

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

let svc: TestService;
let admin: string;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
/** How the receiver answers the next requests; 204 once this runs out. */
let answers: number[] = [];

const q = (sql: string, params: unknown[] = []) => svc.container.ds.query(sql, params);
const api = (method: "get" | "post" | "patch" | "delete", path: string, body?: object) => {
  const req = svc.http[method](path).set("authorization", `Bearer ${admin}`);
  return body ? req.send(body) : req;
};
/** Runs the sender until nothing is due (the sweep does this every few seconds in a running service). */
async function dispatchAll() {
  await q(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE status = 'pending'`);
  while ((await svc.container.crm.outboundWebhooks.dispatchDue()) > 0) await q(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE status = 'pending'`);
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(answers.shift() ?? 204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  svc = await startTestService({ role: "web" });
  admin = (await svc.signIn("admin")).token;
});
afterAll(async () => {
  await svc?.close();
  await new Promise((r) => receiver?.close(r));
});
beforeEach(() => {
  received.length = 0;
  answers = [];
});

describe("outbound webhooks", () => {
  it("delivers a missed call's events, signed per Standard Webhooks, retrying a failing receiver until it succeeds", async () => {
    const sub = (await api("post", "/api/webhooks/subscriptions", { url: receiverUrl, events: ["call.missed", "contact.created", "task.created"] }).expect(201)).body;
    expect(sub.secret).toMatch(/^whsec_/);
    expect((await api("get", "/api/webhooks/subscriptions").expect(200)).body.items[0].secret).toBeUndefined();

    const call = newCall("+14155550961");
    for (const d of [voice(call), ...missedCallbacks(call, "client:nobody")]) await postSigned(svc, d);
    await drainInbox(svc);

    answers = [500, 503, 502]; // the receiver fails three times
    await dispatchAll();
    const byType = new Map(received.filter((r) => r.headers["webhook-id"]).map((r) => [JSON.parse(r.body).type, r]));
    expect([...byType.keys()].sort()).toEqual(["call.missed", "contact.created", "task.created"]);
    for (const r of byType.values()) {
      const raw = Buffer.from(r.body);
      expect(() => verifyStandardWebhook(sub.secret, r.headers, raw)).not.toThrow();
    }
    const missed = JSON.parse(byType.get("call.missed")!.body);
    expect(missed.data.call).toMatchObject({ direction: "inbound", from: "+14155550961", outcome: "missed" });
    expect(JSON.stringify(missed)).not.toMatch(/CallSid|api\.twilio\.com/);

    const log = (await api("get", `/api/webhooks/deliveries?subscriptionId=${sub.id}`).expect(200)).body.items;
    expect(log).toHaveLength(3);
    expect(log.every((d: { status: string }) => d.status === "delivered")).toBe(true);
    expect(log.reduce((n: number, d: { attempts: number }) => n + d.attempts, 0)).toBe(6); // 3 failures + 3 successes

    // A redelivered webhook (same events again) sends nothing new.
    for (const d of [voice(call), ...missedCallbacks(call, "client:nobody")]) await postSigned(svc, d);
    await drainInbox(svc);
    received.length = 0;
    await dispatchAll();
    expect(received).toEqual([]);
    await api("delete", `/api/webhooks/subscriptions/${sub.id}`).expect(204);
  });

  it("replays a delivery with the same message id", async () => {
    const sub = (await api("post", "/api/webhooks/subscriptions", { url: receiverUrl, events: ["contact.created"] }).expect(201)).body;
    await svc.http.post("/api/contacts").set("authorization", `Bearer ${admin}`).send({ name: "Replay Me" }).expect(201);
    await dispatchAll();
    const [first] = received;
    const [delivery] = (await api("get", `/api/webhooks/deliveries?subscriptionId=${sub.id}`).expect(200)).body.items;
    await api("post", `/api/webhooks/deliveries/${delivery.id}/replay`).expect(200);
    await dispatchAll();
    expect(received).toHaveLength(2);
    expect(received[1]!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]);
    expect(received[1]!.body).toBe(first!.body);
    await api("delete", `/api/webhooks/subscriptions/${sub.id}`).expect(204);
  });

  it("parks a delivery as failed after its attempts, and switches off an endpoint that keeps failing", async () => {
    const sub = (await api("post", "/api/webhooks/subscriptions", { url: "http://127.0.0.1:9/unreachable", events: ["contact.created"] }).expect(201)).body;
    for (let i = 0; i < 3; i++) await svc.http.post("/api/contacts").set("authorization", `Bearer ${admin}`).send({ name: `Lost ${i}` }).expect(201);
    await dispatchAll(); // runs until the endpoint is switched off
    const [state] = (await api("get", "/api/webhooks/subscriptions").expect(200)).body.items.filter((x: { id: string }) => x.id === sub.id);
    expect(state).toMatchObject({ isActive: false, disabledReason: expect.stringContaining("20 failed attempts") });
    expect(state.consecutiveFailures).toBeGreaterThanOrEqual(20);
    const log = (await api("get", `/api/webhooks/deliveries?subscriptionId=${sub.id}`).expect(200)).body.items;
    expect(log.reduce((n: number, d: { attempts: number }) => n + d.attempts, 0)).toBe(state.consecutiveFailures);
    expect(log.every((d: { status: string }) => d.status === "pending")).toBe(true); // kept, to go out once it is back on

    // Switched back on, the deliveries use up their attempts and are parked as failed (replayable).
    const on = (await api("patch", `/api/webhooks/subscriptions/${sub.id}`, { isActive: true }).expect(200)).body;
    expect(on).toMatchObject({ isActive: true, consecutiveFailures: 0, disabledReason: null });
    await dispatchAll();
    const after = (await api("get", `/api/webhooks/deliveries?subscriptionId=${sub.id}`).expect(200)).body.items;
    expect(after.map((d: { status: string; attempts: number }) => [d.status, d.attempts])).toEqual([
      ["failed", 8],
      ["failed", 8],
      ["failed", 8],
    ]);
  });

  it("is for admins, and validates what it is given", async () => {
    const supervisor = (await svc.signIn("supervisor")).token;
    await svc.http.get("/api/webhooks/subscriptions").set("authorization", `Bearer ${supervisor}`).expect(403);
    await api("post", "/api/webhooks/subscriptions", { url: "ftp://x.example/", events: ["call.missed"] }).expect(400);
    await api("post", "/api/webhooks/subscriptions", { url: receiverUrl, events: ["call.exploded"] }).expect(400);
    await api("post", "/api/webhooks/subscriptions", { url: receiverUrl, events: [] }).expect(400);
    await api("post", "/api/webhooks/deliveries/00000000-0000-4000-8000-000000000000/replay").expect(404);
  });
});
