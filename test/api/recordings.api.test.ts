import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestService, TEST_TWILIO, type TestService } from "../support/test-service";
import { dialResult, drainInbox, legStatuses, newCall, parentStatus, postSigned, recording, sid, voice, type CallScript } from "../support/twilio";

/** 10,000 bytes of "audio", the same every time, so ranges can be checked byte for byte. */
const AUDIO = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
const BASIC = `Basic ${Buffer.from(`${TEST_TWILIO.accountSid}:${TEST_TWILIO.authToken}`).toString("base64")}`;

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
}

/** A local stand-in for Twilio's API (127.0.0.1) and a media host it redirects to (localhost). */
async function listen(handler: (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function serveAudio(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) {
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
  if (!m) {
    res.writeHead(200, { "content-type": "audio/mpeg", "content-length": AUDIO.length, "accept-ranges": "bytes" }).end(AUDIO);
    return;
  }
  const start = Number(m[1]);
  const end = m[2] ? Number(m[2]) : AUDIO.length - 1;
  res.writeHead(206, { "content-type": "audio/mpeg", "content-length": end - start + 1, "content-range": `bytes ${start}-${end}/${AUDIO.length}`, "accept-ranges": "bytes" });
  res.end(AUDIO.subarray(start, end + 1));
}

let api: { server: Server; port: number };
let cdn: { server: Server; port: number };
const apiSeen: Seen[] = [];
const cdnSeen: Seen[] = [];
let gone = new Set<string>();

const REC = { plain: sid("RE"), allowedRedirect: sid("RE"), evilRedirect: sid("RE") };

beforeAll(async () => {
  cdn = await listen((req, res) => {
    cdnSeen.push({ path: req.url ?? "", headers: req.headers });
    serveAudio(req, res);
  });
  api = await listen((req, res) => {
    apiSeen.push({ path: req.url ?? "", headers: req.headers });
    const m = /^\/2010-04-01\/Accounts\/([^/]+)\/Recordings\/(RE[0-9a-f]{32})\.mp3$/.exec(req.url ?? "");
    if (req.headers.authorization !== BASIC || !m || m[1] !== TEST_TWILIO.accountSid) return void res.writeHead(401).end();
    if (gone.has(m[2]!)) return void res.writeHead(404).end();
    if (m[2] === REC.allowedRedirect) return void res.writeHead(302, { location: `http://localhost:${cdn.port}/media/${m[2]}.mp3` }).end();
    if (m[2] === REC.evilRedirect) return void res.writeHead(302, { location: `http://127.0.0.2:${cdn.port}/steal` }).end();
    serveAudio(req, res);
  });
});
afterAll(async () => {
  await new Promise((r) => api?.server.close(r));
  await new Promise((r) => cdn?.server.close(r));
});

async function answeredCallWithRecording(svc: TestService, agentTarget: string, recSid: string): Promise<string> {
  const c: CallScript = newCall(`+1415555${String(Math.floor(1000 + Math.random() * 8999))}`);
  const leg = sid("CA");
  for (const d of [
    voice(c),
    ...legStatuses(c, leg, agentTarget, ["initiated", "ringing", "in-progress", "completed"]),
    dialResult(c, "completed", { DialCallSid: leg, DialCallDuration: "42", DialBridged: "true" }),
    parentStatus(c, "completed", { CallDuration: "60" }),
    recording(c, recSid),
  ]) {
    expect((await postSigned(svc, d)).status).toBeLessThan(300);
  }
  await drainInbox(svc);
  return (await svc.container.ds.query(`SELECT id FROM calls WHERE provider_call_id = $1`, [c.callSid]))[0].id;
}

describe("GET /api/calls/:id/recording", () => {
  let svc: TestService;
  let agent: { token: string; userId: string };
  let other: { token: string };
  let supervisor: { token: string };
  const calls: Record<string, string> = {};

  beforeAll(async () => {
    svc = await startTestService({ role: "web", env: { TWILIO_API_BASE: `http://127.0.0.1:${api.port}`, RECORDING_MEDIA_HOSTS: "localhost" } });
    agent = await svc.signIn("agent", { dialTarget: "client:rec-agent" });
    other = await svc.signIn("agent", { dialTarget: "client:rec-other" });
    supervisor = await svc.signIn("supervisor");
    for (const [name, recSid] of Object.entries(REC)) calls[name] = await answeredCallWithRecording(svc, "client:rec-agent", recSid);
  });
  afterAll(async () => svc?.close());

  const play = (callId: string, token: string, range?: string) => {
    const req = svc.http.get(`/api/calls/${callId}/recording`).set("authorization", `Bearer ${token}`).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done(null, Buffer.concat(chunks)));
    });
    return range ? req.set("range", range) : req;
  };

  it("streams the audio through the service with the provider's content type, fetched with our credentials", async () => {
    apiSeen.length = 0;
    const res = await play(calls.plain!, supervisor.token).expect(200);
    expect(res.headers["content-type"]).toBe("audio/mpeg");
    expect(Buffer.compare(res.body as Buffer, AUDIO)).toBe(0);
    expect(apiSeen).toEqual([expect.objectContaining({ path: `/2010-04-01/Accounts/${TEST_TWILIO.accountSid}/Recordings/${REC.plain}.mp3` })]);
  });

  it("answers a Range request with 206 and the bytes asked for, for seeking", async () => {
    const res = await play(calls.plain!, agent.token, "bytes=1000-1999").expect(206);
    expect(res.headers["content-range"]).toBe(`bytes 1000-1999/${AUDIO.length}`);
    expect(Buffer.compare(res.body as Buffer, AUDIO.subarray(1000, 2000))).toBe(0);
  });

  it("follows a redirect to an allowlisted host without passing our credentials on", async () => {
    cdnSeen.length = 0;
    const res = await play(calls.allowedRedirect!, supervisor.token).expect(200);
    expect(Buffer.compare(res.body as Buffer, AUDIO)).toBe(0);
    expect(cdnSeen).toHaveLength(1);
    expect(cdnSeen[0]!.headers.authorization).toBeUndefined();
  });

  it("refuses a redirect to any other host (502) and never contacts it", async () => {
    cdnSeen.length = 0;
    const res = await play(calls.evilRedirect!, supervisor.token).expect(502);
    expect(JSON.parse((res.body as Buffer).toString()).error.code).toBe("bad_gateway");
    expect(cdnSeen).toEqual([]);
  });

  it("lets an agent play only the calls they answered, and marketers none", async () => {
    await play(calls.plain!, other.token).expect(403);
    await play(calls.plain!, (await svc.signIn("marketer")).token).expect(403);
    await svc.http.get(`/api/calls/${calls.plain}/recording`).expect(401);
  });

  it("answers 404 for a call without a recording or an unknown call, and never shows a media URL in JSON", async () => {
    const [noRecording] = await svc.container.ds.query(
      `INSERT INTO calls (provider, provider_call_id, direction, from_raw, to_raw, status, started_at) VALUES ('twilio', $1, 'inbound', '+1', '+2', 'completed', now()) RETURNING id`,
      [sid("CA")],
    );
    await play(noRecording.id, supervisor.token).expect(404);
    await play("00000000-0000-4000-8000-000000000000", supervisor.token).expect(404);
    await play("not-a-uuid", supervisor.token).expect(404);
    const call = await svc.http.get(`/api/calls/${calls.plain}`).set("authorization", `Bearer ${supervisor.token}`).expect(200);
    expect(call.body.recording).toEqual({ durationSec: 40, status: "completed" });
    expect(JSON.stringify(call.body)).not.toMatch(/https?:\/\/|api\.twilio\.com|Recordings\//);
  });
  describe("links for players that send no headers (POST /api/calls/:id/recording/link)", () => {
    const link = (callId: string, token: string) => svc.http.post(`/api/calls/${callId}/recording/link`).set("authorization", `Bearer ${token}`);
    const fetchLink = (url: string, range?: string) => {
      const req = svc.http.get(url).buffer(true).parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => done(null, Buffer.concat(chunks)));
      });
      return range ? req.set("range", range) : req;
    };

    it("gives who may play it a short-lived link that streams and seeks without a token header", async () => {
      const res = await link(calls.plain!, agent.token).expect(200);
      expect(res.body.url).toMatch(new RegExp(`^/api/calls/${calls.plain}/recording\\?access=`));
      expect(new Date(res.body.expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(30 * 60_000);
      const seek = await fetchLink(res.body.url, "bytes=10-19").expect(206);
      expect(Buffer.compare(seek.body as Buffer, AUDIO.subarray(10, 20))).toBe(0);
    });

    it("refuses a link to those who may not play it, and a link used for another call or tampered with", async () => {
      await link(calls.plain!, other.token).expect(403);
      await link(calls.plain!, (await svc.signIn("marketer")).token).expect(403);
      const { body } = await link(calls.plain!, supervisor.token).expect(200);
      const token = new URL(body.url, "http://x").searchParams.get("access")!;
      await fetchLink(`/api/calls/${calls.allowedRedirect}/recording?access=${token}`).expect(401);
      await fetchLink(`/api/calls/${calls.plain}?access=${token}`).expect(401);
      // One character of the signature changed (not the last: its low bits carry no data).
      const at = token.length - 10;
      const tampered = `${token.slice(0, at)}${token[at] === "A" ? "B" : "A"}${token.slice(at + 1)}`;
      await fetchLink(`/api/calls/${calls.plain}/recording?access=${tampered}`).expect(401);
      // A sign-in token is not a link, nor a link a sign-in token.
      await fetchLink(`/api/calls/${calls.plain}/recording?access=${supervisor.token}`).expect(401);
      await svc.http.get(`/api/calls/${calls.plain}`).set("authorization", `Bearer ${token}`).expect(401);
    });

    it("stops working when its user is deactivated", async () => {
      const admin = await svc.signIn("admin");
      const sup = await svc.signIn("supervisor");
      const { body } = await link(calls.plain!, sup.token).expect(200);
      await svc.http.patch(`/api/users/${sup.userId}`).set("authorization", `Bearer ${admin.token}`).send({ isActive: false }).expect(200);
      await fetchLink(body.url).expect(401);
    });
  });

  it("lists the calls that have a playable recording (?recorded=true), with the caller's name", async () => {
    const res = await svc.http.get("/api/calls?recorded=true&limit=100").set("authorization", `Bearer ${supervisor.token}`).expect(200);
    expect(res.body.items.map((c: { id: string }) => c.id).sort()).toEqual(Object.values(calls).sort());
    expect(res.body.items[0]).toEqual(expect.objectContaining({ contactName: expect.any(String), recording: { durationSec: 40, status: "completed" } }));
    const none = await svc.http.get("/api/calls?recorded=false&limit=100").set("authorization", `Bearer ${supervisor.token}`).expect(200);
    const unrecorded = none.body.items.map((c: { id: string }) => c.id);
    expect(unrecorded.length).toBeGreaterThan(0);
    for (const id of Object.values(calls)) expect(unrecorded).not.toContain(id);
    await svc.http.get("/api/calls?recorded=yes").set("authorization", `Bearer ${supervisor.token}`).expect(400);
  });
});

describe("GET /api/calls/:id/recording with RECORDING_COPY", () => {
  let svc: TestService;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "crm-rec-"));
    svc = await startTestService({ role: "web", env: { TWILIO_API_BASE: `http://127.0.0.1:${api.port}`, RECORDING_COPY: "true", DATA_DIR: dataDir } });
  });
  afterAll(async () => {
    await svc?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps a copy on first play, so playback outlives the provider's retention", async () => {
    const supervisor = await svc.signIn("supervisor");
    const recSid = sid("RE");
    const callId = await answeredCallWithRecording(svc, "client:copy-agent", recSid);
    const get = (range?: string) => {
      const req = svc.http.get(`/api/calls/${callId}/recording`).set("authorization", `Bearer ${supervisor.token}`).buffer(true).parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => done(null, Buffer.concat(chunks)));
      });
      return range ? req.set("range", range) : req;
    };
    expect(Buffer.compare((await get().expect(200)).body as Buffer, AUDIO)).toBe(0);
    gone = new Set([recSid]); // the provider deletes it
    const seek = await get("bytes=-100").expect(206);
    expect(seek.headers["content-range"]).toBe(`bytes 9900-9999/${AUDIO.length}`);
    expect(Buffer.compare(seek.body as Buffer, AUDIO.subarray(9900))).toBe(0);
    await get("bytes=20000-").expect(416);
  });
});
