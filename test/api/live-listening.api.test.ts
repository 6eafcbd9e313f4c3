import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import twilio from "twilio";
import { io as connect, type Socket } from "socket.io-client";
import WebSocket from "ws";
import { listenRoom } from "../../src/realtime";
import { startTestService, TEST_PUBLIC_URL, TEST_TWILIO, type TestService } from "../support/test-service";
import { drainInbox, legStatuses, newCall, postSigned, sid, voice } from "../support/twilio";
import { waitFor } from "../support/wait-for";

/** A local stand-in for Twilio's Streams resource: starts and stops are remembered. */
const streams: { started: Array<{ callSid: string; url: string; track: string; sid: string; listeners: string[] }>; stopped: Array<{ callSid: string; sid: string }> } = {
  started: [],
  stopped: [],
};
/** Calls whose stream the stand-in refuses (as Twilio can). */
const failStreamsOf = new Set<string>();
/** The sockets in a call's listen room now (this process's). */
const inListenRoom = (callId: string) => [...(svc.realtime.io.of("/").adapter.rooms.get(listenRoom(callId)) ?? [])];
let fake: Server;
let svc: TestService;
const sockets: Socket[] = [];

beforeAll(async () => {
  fake = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const params = new URLSearchParams(body);
      const start = /\/Calls\/(CA[0-9a-f]{32})\/Streams\.json$/.exec(req.url ?? "");
      const stop = /\/Calls\/(CA[0-9a-f]{32})\/Streams\/(MZ[0-9a-f]{32})\.json$/.exec(req.url ?? "");
      if (start && failStreamsOf.has(start[1]!)) return void res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ code: 20500, message: "Internal Server Error" }));
      if (start) {
        const url = params.get("Url")!;
        // Who would hear the stream's first audio, were it relayed right away.
        const listeners = inListenRoom(new URL(url).searchParams.get("call") ?? "");
        const s = { callSid: start[1]!, url, track: params.get("Track")!, sid: `MZ${randomBytes(16).toString("hex")}`, listeners };
        streams.started.push(s);
        return void res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ sid: s.sid, call_sid: s.callSid, status: "in-progress" }));
      }
      if (stop && params.get("Status") === "stopped") {
        streams.stopped.push({ callSid: stop[1]!, sid: stop[2]! });
        return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ sid: stop[2], status: "stopped" }));
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
  svc = await startTestService({ env: { TWILIO_API_BASE: `http://127.0.0.1:${(fake.address() as AddressInfo).port}` } });
});
afterAll(async () => {
  sockets.forEach((s) => s.disconnect());
  await svc?.close();
  await new Promise((r) => fake?.close(r));
});

async function socketOf(role: "agent" | "supervisor", dialTarget?: string): Promise<{ socket: Socket; userId: string }> {
  const u = await svc.signIn(role, { dialTarget });
  const socket = connect(svc.url!, { auth: { token: u.token }, transports: ["websocket"], reconnection: false });
  sockets.push(socket);
  socket.on("screen-pop", (_p, ack) => ack?.({ ok: true }));
  await new Promise<void>((resolve, reject) => (socket.once("connect", () => resolve()), socket.once("connect_error", reject)));
  return { socket, userId: u.userId };
}

const ask = (s: Socket, event: "listen:start" | "listen:stop", body: unknown) =>
  new Promise<{ ok: boolean; error?: string; sessionId?: string }>((resolve) => s.emit(event, body, resolve));

/** An inbound call an agent has answered: in progress. */
async function liveCall(agentTarget: string): Promise<{ callId: string; callSid: string }> {
  const c = newCall(`+1415557${String(1000 + Math.floor(Math.random() * 8999))}`);
  const [initiated, ringing, answered] = legStatuses(c, sid("CA"), agentTarget, ["initiated", "ringing", "in-progress"]);
  for (const d of [voice(c), initiated!, ringing!, answered!]) expect((await postSigned(svc, d)).status).toBeLessThan(300);
  await drainInbox(svc);
  const [row] = await svc.container.ds.query(`SELECT id, status FROM calls WHERE provider_call_id = $1`, [c.callSid]);
  expect(row.status).toBe("in-progress");
  return { callId: row.id, callSid: c.callSid };
}

/** Twilio's side of a media stream: the signed upgrade, then its JSON messages. */
async function mediaStream(callId: string, opts: { signature?: string } = {}): Promise<WebSocket> {
  const path = `/media-streams?call=${callId}`;
  const signature = opts.signature ?? twilio.getExpectedTwilioSignature(TEST_TWILIO.authToken, `${TEST_PUBLIC_URL.replace(/^http/, "ws")}${path}`, {});
  const ws = new WebSocket(`${svc.url!.replace(/^http/, "ws")}${path}`, { headers: { "x-twilio-signature": signature } });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
    ws.once("error", reject);
  });
  return ws;
}

const send = (ws: WebSocket, m: unknown) => ws.send(typeof m === "string" ? m : JSON.stringify(m));
const media = (streamSid: string, track: "inbound" | "outbound", i: number, bytes: Buffer) => ({
  event: "media",
  streamSid,
  sequenceNumber: String(i + 3),
  media: { track, chunk: String(i + 1), timestamp: String(i * 20), payload: bytes.toString("base64") },
});

describe("live listening", () => {
  it("relays both tracks of a live call to the supervisor who asked, and to no one else", async () => {
    const agent = await socketOf("agent", "client:listened");
    const listener = await socketOf("supervisor");
    const bystander = await socketOf("supervisor");
    const { callId, callSid } = await liveCall("client:listened");

    const got = await ask(listener.socket, "listen:start", { callId });
    expect(got).toMatchObject({ ok: true, sessionId: expect.any(String) });
    const stream = streams.started.at(-1)!;
    expect(stream).toMatchObject({ callSid, track: "both_tracks", url: `wss://crm.example.test/media-streams?call=${callId}` });
    // In the room before Twilio was asked: audio relayed the moment the session commits reaches it.
    expect(stream.listeners).toEqual([listener.socket.id]);

    const heard: Record<string, Buffer[]> = { inbound: [], outbound: [] };
    listener.socket.on("listen:audio", (a: { callId: string; track: string; audio: ArrayBuffer | Buffer }) => heard[a.track]!.push(Buffer.from(a.audio as ArrayBuffer)));
    const leaked: unknown[] = [];
    bystander.socket.on("listen:audio", (a) => leaked.push(a));
    agent.socket.on("listen:audio", (a) => leaked.push(a));

    const ws = await mediaStream(callId);
    let closedWith: string | undefined;
    ws.once("close", (code, reason) => (closedWith = `${code} ${reason.toString()}`));
    send(ws, { event: "connected", protocol: "Call", version: "1.0.0" });
    send(ws, { event: "start", sequenceNumber: "1", streamSid: stream.sid, start: { streamSid: stream.sid, callSid, tracks: ["inbound", "outbound"], mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 } } });
    const sent: Record<string, Buffer[]> = { inbound: [], outbound: [] };
    const total = (b: Buffer[]) => Buffer.concat(b).length;
    const heardAll = (bytes: number) =>
      waitFor(() => total(heard.inbound!) === bytes && total(heard.outbound!) === bytes, {
        what: () => `${bytes} bytes of both tracks heard (${total(heard.inbound!)}, ${total(heard.outbound!)}; stream socket ${closedWith ? `closed: ${closedWith}` : "open"})`,
      });
    const sendFrames = (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        for (const track of ["inbound", "outbound"] as const) {
          const bytes = randomBytes(160);
          sent[track]!.push(bytes);
          send(ws, media(stream.sid, track, i, bytes));
        }
        // Malformed frames in the middle are dropped; the stream goes on.
        if (i === 4) for (const junk of ["not json", { event: "media", media: { track: "sideways", payload: "x" } }, { event: "media" }, { nope: 1 }]) send(ws, junk);
      }
    };
    // Two frames, then a pause: a short piece is not held back until more audio comes.
    sendFrames(0, 2);
    await heardAll(320);
    // Eight more: a full piece of five, and a short one of three.
    sendFrames(2, 10);
    await heardAll(1600);
    expect(Buffer.concat(heard.inbound!)).toEqual(Buffer.concat(sent.inbound!));
    expect(Buffer.concat(heard.outbound!)).toEqual(Buffer.concat(sent.outbound!));
    expect(leaked).toEqual([]);
    expect(ws.readyState).toBe(WebSocket.OPEN);

    // The last listener leaving stops the stream at Twilio; the session is on the call's record.
    expect(await ask(listener.socket, "listen:stop", { callId })).toEqual({ ok: true });
    expect(streams.stopped).toContainEqual({ callSid, sid: stream.sid });
    expect(await svc.container.ds.query(`SELECT end_reason FROM listen_sessions WHERE call_id = $1`, [callId])).toEqual([{ end_reason: "stopped" }]);
    const audit = await svc.container.ds.query(`SELECT actor_id, after FROM audit_log WHERE entity = 'call' AND entity_id = $1 AND action = 'listen' ORDER BY id`, [callId]);
    expect(audit).toEqual([
      { actor_id: listener.userId, after: expect.objectContaining({ started: true }) },
      { actor_id: listener.userId, after: expect.objectContaining({ ended: "stopped", durationSec: expect.any(Number) }) },
    ]);
    ws.close();
    const metrics = (await svc.http.get("/metrics").expect(200)).text;
    expect(metrics).toMatch(/listen_sessions_total\{result="started"\} [1-9]/);
    expect(metrics).toMatch(/listen_session_duration_seconds_count [1-9]/);
    expect(metrics).toMatch(/media_stream_frames_total\{result="dropped"\} [1-9]/);
  });

  it("shares one stream between two supervisors and ends both sessions when the call ends", async () => {
    await socketOf("agent", "client:shared");
    const a = await socketOf("supervisor");
    const b = await socketOf("supervisor");
    const { callId, callSid } = await liveCall("client:shared");
    expect((await ask(a.socket, "listen:start", { callId })).ok).toBe(true);
    expect((await ask(b.socket, "listen:start", { callId })).ok).toBe(true);
    expect(streams.started.filter((s) => s.callSid === callSid)).toHaveLength(1);
    const stream = streams.started.at(-1)!;

    // One leaves: the stream goes on for the other.
    expect(await ask(a.socket, "listen:stop", { callId })).toEqual({ ok: true });
    expect(streams.stopped.filter((s) => s.sid === stream.sid)).toHaveLength(0);

    const ended = new Promise((resolve) => b.socket.once("listen:ended", resolve));
    const ws = await mediaStream(callId);
    send(ws, { event: "start", streamSid: stream.sid, start: { streamSid: stream.sid, callSid } });
    send(ws, { event: "stop", streamSid: stream.sid, stop: { callSid } });
    expect(await ended).toEqual({ callId, reason: "call ended" });
    await waitFor(async () => (await svc.container.ds.query(`SELECT 1 FROM listen_sessions WHERE call_id = $1 AND ended_at IS NULL`, [callId])).length === 0, {
      what: "sessions ended",
    });
  });

  it("refuses an upgrade without a valid signature, and a stream nobody asked for", async () => {
    const { callId } = await liveCall("client:nobody");
    await expect(mediaStream(callId, { signature: "bm9wZQ==" })).rejects.toMatchObject({ status: 403 });
    await expect(mediaStream(callId, { signature: "" })).rejects.toMatchObject({ status: 403 });
    const ws = await mediaStream(callId);
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    send(ws, { event: "start", streamSid: `MZ${"0".repeat(32)}`, start: { streamSid: `MZ${"0".repeat(32)}`, callSid: "CAx" } });
    expect(await closed).toBe(1008);
  });

  it("refuses listeners who are not supervisors, calls that are not live, and bad requests", async () => {
    const agent = await socketOf("agent", "client:refuser");
    const sup = await socketOf("supervisor");
    const { callId } = await liveCall("client:refuser");
    expect(await ask(agent.socket, "listen:start", { callId })).toMatchObject({ ok: false, error: "forbidden" });
    expect(await ask(sup.socket, "listen:start", { callId: "00000000-0000-4000-8000-000000000000" })).toMatchObject({ ok: false, error: "not_found" });
    expect(await ask(sup.socket, "listen:start", { callId: "x" })).toMatchObject({ ok: false, error: "validation_failed" });
    expect(await ask(sup.socket, "listen:start", { callId, extra: 1 })).toMatchObject({ ok: false, error: "validation_failed" });
    await svc.container.ds.query(`UPDATE calls SET status = 'completed' WHERE id = $1`, [callId]);
    expect(await ask(sup.socket, "listen:start", { callId })).toMatchObject({ ok: false, error: "conflict" });
    expect(await svc.container.ds.query(`SELECT count(*)::int AS n FROM listen_sessions WHERE call_id = $1`, [callId])).toEqual([{ n: 0 }]);
    expect(inListenRoom(callId)).toEqual([]); // a refused listener never joins
  });

  it("a listener granted a session whose stream Twilio refuses leaves the room again", async () => {
    await socketOf("agent", "client:refused-stream");
    const sup = await socketOf("supervisor");
    const { callId, callSid } = await liveCall("client:refused-stream");
    failStreamsOf.add(callSid);
    try {
      expect(await ask(sup.socket, "listen:start", { callId })).toMatchObject({ ok: false });
      expect(inListenRoom(callId)).toEqual([]);
      expect(await svc.container.ds.query(`SELECT count(*)::int AS n FROM listen_sessions WHERE call_id = $1`, [callId])).toEqual([{ n: 0 }]);
    } finally {
      failStreamsOf.delete(callSid);
    }
  });
});

describe("listen sessions without Twilio's stop", () => {
  it("a stream that connects before its session commits is waited for; an unknown one is refused after a while", async () => {
    const sup = await svc.signIn("supervisor");
    const { callId, callSid } = await liveCall("client:early");
    const listening = svc.container.telephony.listening;
    const early = listening.wanted(callId, `MZ${"e".repeat(32)}`, 3000);
    await svc.container.ds.query(`INSERT INTO listen_sessions (call_id, user_id, provider_call_id, stream_sid) VALUES ($1, $2, $3, $4)`, [
      callId,
      sup.userId,
      callSid,
      `MZ${"e".repeat(32)}`,
    ]);
    expect(await early).toBe(true);
    expect(await listening.wanted(callId, `MZ${"f".repeat(32)}`, 200)).toBe(false);
  });

  it("a failed lookup of a connecting stream is asked again; only one failing to the end rejects", async () => {
    const sup = await svc.signIn("supervisor");
    const { callId, callSid } = await liveCall("client:hiccup");
    const listening = svc.container.telephony.listening;
    const ds = svc.container.ds;
    const streamSid = `MZ${"c".repeat(32)}`;
    await ds.query(`INSERT INTO listen_sessions (call_id, user_id, provider_call_id, stream_sid) VALUES ($1, $2, $3, $4)`, [callId, sup.userId, callSid, streamSid]);
    const warned = jest.spyOn(svc.container.log, "warn");
    // The table away is a lookup that fails, on the real database.
    await ds.query(`ALTER TABLE listen_sessions RENAME TO listen_sessions_away`);
    try {
      await expect(listening.wanted(callId, streamSid, 300)).rejects.toThrow(/listen_sessions/);
      warned.mockClear();
      const answer = listening.wanted(callId, streamSid, 5000);
      // Only the lookup's own warnings count (the periodic sweep fails on the missing table too).
      const retries = () => warned.mock.calls.filter((c) => String(c[1]).startsWith("looking up a connecting media stream failed")).length;
      await waitFor(() => retries() >= 2, { what: "two failed lookups of the same stream" });
      await ds.query(`ALTER TABLE listen_sessions_away RENAME TO listen_sessions`);
      expect(await answer).toBe(true);
    } finally {
      warned.mockRestore();
      await ds.query(`ALTER TABLE IF EXISTS listen_sessions_away RENAME TO listen_sessions`);
    }
  });

  it("a stream that cannot be looked up for the whole patience is closed, and its listeners are told it was lost", async () => {
    const sup = await socketOf("supervisor");
    const { callId } = await liveCall("client:lost");
    expect((await ask(sup.socket, "listen:start", { callId })).ok).toBe(true);
    const stream = streams.started.at(-1)!;
    const told = new Promise((resolve) => sup.socket.once("listen:ended", resolve));
    const ds = svc.container.ds;
    await ds.query(`ALTER TABLE listen_sessions RENAME TO listen_sessions_away`);
    try {
      const ws = await mediaStream(callId);
      const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
      send(ws, { event: "start", streamSid: stream.sid, start: { streamSid: stream.sid, callSid: stream.callSid } });
      send(ws, media(stream.sid, "inbound", 0, randomBytes(160)));
      expect(await closed).toBe(1011);
    } finally {
      await ds.query(`ALTER TABLE IF EXISTS listen_sessions_away RENAME TO listen_sessions`);
    }
    expect(await told).toEqual({ callId, reason: "stream lost" });
  });

  it("the sweep ends the sessions of calls that are over", async () => {
    const sup = await svc.signIn("supervisor");
    const { callId, callSid } = await liveCall("client:swept");
    await svc.container.ds.query(`INSERT INTO listen_sessions (call_id, user_id, provider_call_id, stream_sid) VALUES ($1, $2, $3, $4)`, [
      callId,
      sup.userId,
      callSid,
      `MZ${"d".repeat(32)}`,
    ]);
    expect(await svc.container.telephony.listening.endFinishedCalls()).not.toContain(callId);
    await svc.container.ds.query(`UPDATE calls SET status = 'completed' WHERE id = $1`, [callId]);
    // The service's own periodic sweep may get there first (then this one finds nothing left):
    // either way the session ends once, with one audit entry.
    await svc.container.telephony.listening.endFinishedCalls();
    expect(await svc.container.ds.query(`SELECT end_reason FROM listen_sessions WHERE call_id = $1`, [callId])).toEqual([{ end_reason: "call ended" }]);
    expect(await svc.container.ds.query(`SELECT count(*)::int AS n FROM audit_log WHERE entity_id = $1 AND action = 'listen'`, [callId])).toEqual([{ n: 1 }]);
  });
});
