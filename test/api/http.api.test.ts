import { startTestService, type TestService } from "../support/test-service";

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => svc?.close());

describe("health and readiness", () => {
  it("GET /healthz answers 200", async () => {
    expect((await svc.http.get("/healthz").expect(200)).body).toEqual({ status: "ok" });
  });

  it("GET /readyz answers 200 when the database and the queue answer", async () => {
    const res = await svc.http.get("/readyz").expect(200);
    expect(res.body).toEqual({ status: "ready", checks: { database: true, queue: true } });
  });

  it("GET /metrics exposes latency, webhook counts, queue depth and inbox backlog", async () => {
    await svc.http.get("/healthz");
    const res = await svc.http.get("/metrics").expect(200);
    expect(res.headers["content-type"]).toMatch(/text\/plain/);
    expect(res.text).toMatch(/http_request_duration_seconds_bucket\{.*route="\/healthz"/);
    expect(res.text).toMatch(/^queue_depth \d+/m);
    expect(res.text).toMatch(/^inbox_pending 0/m);
    expect(res.text).toContain("# TYPE webhooks_received_total counter");
  });

  it("GET /metrics counts the deliveries parked as failed, for an alert", async () => {
    expect((await svc.http.get("/metrics").expect(200)).text).toMatch(/^inbox_failed 0$/m);
    await svc.container.ds.query(`INSERT INTO inbox (source, delivery_key, payload, status, failures) VALUES ('pbx', 'test:metrics:failed', '{}', 'failed', 10)`);
    expect((await svc.http.get("/metrics").expect(200)).text).toMatch(/^inbox_failed 1$/m);
  });
});

describe("error shape", () => {
  it("an unknown route answers 404 { error: { code, message } }", async () => {
    const res = await svc.http.get("/api/does-not-exist").expect(404);
    expect(res.body.error).toEqual(expect.objectContaining({ code: "not_found", message: expect.any(String), requestId: expect.any(String) }));
  });

  it("malformed JSON answers 400 malformed_json, without a stack trace", async () => {
    const res = await svc.http.post("/api/auth/login").set("content-type", "application/json").send('{"email": ').expect(400);
    expect(res.body.error.code).toBe("malformed_json");
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(js|ts):\d+/);
  });

  it("an oversized body answers 413 payload_too_large", async () => {
    const res = await svc.http
      .post("/api/auth/login")
      .set("content-type", "application/json")
      .send(JSON.stringify({ email: "a@b.c", password: "x".repeat(300 * 1024) }))
      .expect(413);
    expect(res.body.error.code).toBe("payload_too_large");
  });

  it("echoes a sane X-Request-Id and replaces an unsafe one", async () => {
    const kept = await svc.http.get("/healthz").set("x-request-id", "edge-abc-123");
    expect(kept.headers["x-request-id"]).toBe("edge-abc-123");
    const replaced = await svc.http.get("/healthz").set("x-request-id", "<script>");
    expect(replaced.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("sets security headers and hides the framework", async () => {
    const res = await svc.http.get("/healthz");
    expect(res.headers["x-powered-by"]).toBeUndefined();
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
  });
});
