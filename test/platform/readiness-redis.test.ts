import net from "node:net";
import type { ChildProcess } from "node:child_process";
import Redis from "ioredis";
import { startTestService, usesRealServices, type TestService } from "../support/test-service";
import { freePort } from "../support/free-port";
import { haveRedisServer, startPrivateRedis } from "../support/private-redis";
import { newCall, parentStatus, postSigned } from "../support/twilio";
import { waitFor } from "../support/wait-for";

/**
 * Real-services pass only: a private redis-server (never the shared one) is killed under the
 * service and started again; /readyz must follow it, and nothing may crash.
 */
const suite = usesRealServices() && haveRedisServer() ? describe : describe.skip;

suite("readiness when Redis goes away", () => {
  let port: number;
  let redis: ChildProcess;
  let svc: TestService;

  // The clients made by duplicating another: the Socket.IO adapter's stream reader and subscriber.
  let duplicated: jest.SpyInstance<Redis, Parameters<Redis["duplicate"]>>;

  beforeAll(async () => {
    duplicated = jest.spyOn(Redis.prototype, "duplicate");
    port = await freePort();
    redis = await startPrivateRedis(port);
    svc = await startTestService({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
  });
  afterAll(async () => {
    redis?.kill("SIGKILL");
    await svc?.close();
  });

  it("flips /readyz to 503 when Redis is killed, and back to 200 when it returns", async () => {
    await svc.http.get("/readyz").expect(200);
    redis.kill("SIGKILL");
    const down = await waitFor(async () => {
      const res = await svc.http.get("/readyz");
      return res.status === 503 ? res : undefined;
    }, { what: "readyz 503" });
    expect(down.body.checks).toEqual({ database: true, queue: false });
    await svc.http.get("/healthz").expect(200);

    // A webhook while Redis is down is still accepted durably (the inbox row is committed)...
    // A status callback, not the ringing voice: this process applies a ringing call itself,
    // without the queue (decision 0012), so only the rest waits for Redis.
    const c = newCall("+14155550177");
    const res = await postSigned(svc, parentStatus(c, "completed"));
    expect(res.status).toBe(204);
    const key = `twilio:status:${c.callSid}:-:completed`;
    const status = async () => (await svc.container.ds.query(`SELECT status FROM inbox WHERE delivery_key = $1`, [key]))[0]?.status;
    expect(await status()).toBe("pending");

    redis = await startPrivateRedis(port);
    await waitFor(async () => (await svc.http.get("/readyz")).status === 200, { timeoutMs: 15_000, what: "readyz 200" });
    // ...and applied once Redis is back: the sweeper enqueues what the intake could not.
    await waitFor(async () => (await status()) === "done", { timeoutMs: 40_000, what: "inbox row applied after recovery" });
    expect(await svc.container.ds.query(`SELECT count(*)::int AS n FROM calls WHERE provider_call_id = $1`, [c.callSid])).toEqual([{ n: 1 }]);
  }, 90_000);

  // Found running this file alone: the adapter's reader waited for Redis to come back, and its
  // reconnection timers kept the process alive after the service was closed.
  it("closes with Redis away, and none of its Redis clients goes on reconnecting", async () => {
    expect(duplicated).toHaveBeenCalledTimes(2); // the adapter's reader and subscriber
    redis.kill("SIGKILL");
    await waitFor(async () => (await svc.http.get("/readyz")).status === 503, { what: "Redis gone" });
    const closing = svc;
    svc = undefined as unknown as TestService; // closed here, not again after all
    await closing.close();
    // Redis answers on its port again: a client still reconnecting comes within its retry delay
    // (ioredis: at most 2 s).
    let connections = 0;
    const listener = net.createServer((s) => (connections++, s.destroy()));
    await new Promise<void>((resolve) => listener.listen(port, "127.0.0.1", resolve));
    try {
      await new Promise((resolve) => setTimeout(resolve, 3000)); // the absence of a connection is what is measured
      expect(connections).toBe(0);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  }, 30_000);
});
