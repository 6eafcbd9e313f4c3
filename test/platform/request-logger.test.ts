import express from "express";
import { Writable } from "node:stream";
import request from "supertest";
import { createLogger } from "../../src/platform/logger";
import { requestLogger } from "../../src/platform/http/request-context";

function app(level: string, finished?: Parameters<typeof requestLogger>[1]) {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  const a = express()
    .use(requestLogger(createLogger(level, stream), finished))
    .get("/ok", (_req, res) => void res.send("ok"))
    .get("/boom", (_req, res) => void res.status(503).end())
    .get("/healthz", (_req, res) => void res.send("up"));
  return { http: request(a), lines };
}

describe("request logger", () => {
  it("writes one line per request with the id, status and time, and never a link token", async () => {
    const { http, lines } = app("info");
    const res = await http.get("/ok?access=secret.link.token&x=1").set("x-request-id", "edge-1").expect(200);
    expect(res.headers["x-request-id"]).toBe("edge-1");
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, msg: "request completed", req: { id: "edge-1", method: "GET", url: "/ok?access=[redacted]&x=1" }, res: { statusCode: 200 }, responseTime: expect.any(Number) }),
    ]);
  });

  it("logs a failed request at error level, under a fresh id when the proxy's is not sane", async () => {
    const { http, lines } = app("info");
    await http.get("/boom").set("x-request-id", "<script>").expect(503);
    expect(lines).toEqual([expect.objectContaining({ level: 50, msg: "request failed with 503", req: expect.objectContaining({ id: expect.stringMatching(/^[0-9a-f-]{36}$/) }) })]);
  });

  it("keeps health checks and levels that are off quiet", async () => {
    const quiet = app("info");
    await quiet.http.get("/healthz").expect(200);
    expect(quiet.lines).toEqual([]);
    const warnOnly = app("warn");
    await warnOnly.http.get("/ok").expect(200);
    expect(warnOnly.lines).toEqual([]);
  });

  it("hands every answered request to the metrics' timer, health checks included, from the same listener", async () => {
    const seen: Array<{ path: string; status: number; seconds: number }> = [];
    const { http, lines } = app("info", (req, res, seconds) => seen.push({ path: req.path, status: res.statusCode, seconds }));
    await http.get("/ok").expect(200);
    await http.get("/healthz").expect(200);
    await http.get("/boom").expect(503);
    expect(seen).toEqual([
      { path: "/ok", status: 200, seconds: expect.any(Number) },
      { path: "/healthz", status: 200, seconds: expect.any(Number) },
      { path: "/boom", status: 503, seconds: expect.any(Number) },
    ]);
    expect(seen.every((s) => s.seconds >= 0 && s.seconds < 5)).toBe(true);
    expect(lines.map((l) => l.msg)).toEqual(["request completed", "request failed with 503"]);
  });
});
