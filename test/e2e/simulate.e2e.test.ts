import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { startTestService, TEST_PUBLIC_URL, TEST_TWILIO, type TestService } from "../support/test-service";
import { io as connect, type Socket } from "socket.io-client";
import { drainInbox } from "../support/twilio";
import { waitFor } from "../support/wait-for";

const run = promisify(execFile);
let svc: TestService;
let agent: Socket;

beforeAll(async () => {
  svc = await startTestService({ role: "web" });
  const admin = (await svc.signIn("admin")).token;
  await svc.http.post("/api/tracking/numbers").set("authorization", `Bearer ${admin}`).send({ number: "+15005550777", pool: "website" }).expect(201);
  // One agent signed in (so available): the simulator rings whom the service's TwiML dials.
  const { token, userId } = await svc.signIn("agent", { dialTarget: "client:sim" });
  agent = connect(svc.url!, { auth: { token }, transports: ["websocket"], reconnection: false });
  agent.on("screen-pop", (_pop, ack) => ack?.({ ok: true }));
  await new Promise<void>((resolve) => agent.once("connect", () => resolve()));
  // Connected is not yet available: the service records that just after the handshake.
  await waitFor(async () => (await svc.container.ds.query(`SELECT presence FROM users WHERE id = $1`, [userId]))[0]?.presence === "available", {
    what: "the agent available",
  });
});
afterAll(async () => {
  agent?.disconnect();
  await svc?.close();
});

describe("npm run simulate", () => {
  it("plays answered, missed, repeat, voicemail, abandoned and tracked calls, signed, against a running service", async () => {
    const script = path.join(__dirname, "..", "..", "scripts", "simulate.js");
    const { stdout } = await run(process.execPath, [script, "--url", svc.url!, "--calls", "7", "--delay", "0", "--ring", "0", "--talk", "0"], {
      env: { ...process.env, PUBLIC_URL: TEST_PUBLIC_URL, TWILIO_AUTH_TOKEN: TEST_TWILIO.authToken },
    });
    expect(stdout).toContain("answered by client:sim");
    expect(stdout).toContain("missed (rang client:sim)");
    expect(stdout).toContain("done");
    await drainInbox(svc);

    const q = (sql: string) => svc.container.ds.query(sql);
    // Answered: two answered, the repeat's second call and the tracked one; missed: missed, repeat (first), voicemail, abandoned.
    expect(await q(`SELECT outcome, count(*)::int AS n FROM calls GROUP BY 1 ORDER BY 1`)).toEqual([
      { outcome: "answered", n: 4 },
      { outcome: "missed", n: 4 },
    ]);
    expect(await q(`SELECT count(*)::int AS n FROM calls WHERE outcome = 'answered' AND answered_by IS NOT NULL`)).toEqual([{ n: 4 }]);
    expect(await q(`SELECT source, count(*)::int AS n FROM recordings WHERE status = 'completed' GROUP BY 1 ORDER BY 1`)).toEqual([
      { source: "call", n: 4 },
      { source: "voicemail", n: 1 },
    ]);
    // The repeat caller's call back closed its task; the other misses wait for one.
    expect(await q(`SELECT status, count(*)::int AS n FROM tasks GROUP BY 1 ORDER BY 1`)).toEqual([
      { status: "done", n: 1 },
      { status: "open", n: 3 },
    ]);
    expect(await q(`SELECT method, keyword FROM call_attributions WHERE is_primary`)).toEqual([{ method: "session", keyword: "blue widgets" }]);
  }, 60_000);

  it("refuses bad options", async () => {
    const script = path.join(__dirname, "..", "..", "scripts", "simulate.js");
    await expect(run(process.execPath, [script, "--calls", "0"], { env: { ...process.env, TWILIO_AUTH_TOKEN: "x" } })).rejects.toMatchObject({ code: 64 });
  });
});
