import express, { Router } from "express";
import { randomBytes } from "node:crypto";
import twilio from "twilio";
import WebSocket from "ws";
import type { Logger } from "../../platform/logger";

export interface DemoCallsOptions {
  accountSid: string;
  authToken: string;
  log: Logger;
  /** One step of a demo call (the agent answering, the customer answering…); tests go faster. */
  stepMs?: number;
}

const sid = (prefix: string) => `${prefix}${randomBytes(16).toString("hex")}`;
const attr = (xml: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(xml)?.[1]?.replace(/&amp;/g, "&");

/**
 * Demo mode only: Twilio's Calls and Streams resources, played out, so click-to-call and live
 * listening can be tried with no Twilio account. A placed call rings the agent, who answers;
 * the TwiML's customer answers too, they talk, hang up, and the recording is reported — every
 * step a callback signed with the development token, as Twilio would send it. A stream sends a
 * tone per track to the service's own Media Streams endpoint until stopped.
 */
export function demoCallsRouter(opts: DemoCallsOptions): Router {
  const r = Router();
  const step = opts.stepMs ?? 1000;
  const expected = `Basic ${Buffer.from(`${opts.accountSid}:${opts.authToken}`).toString("base64")}`;
  const streams = new Map<string, () => void>();
  r.use(express.urlencoded({ extended: false, limit: "16kb" }));
  r.use((req, res, next) => {
    if (req.get("authorization") === expected) return next();
    res.status(401).json({ code: 20003, message: "Authenticate", status: 401 });
  });

  r.post("/2010-04-01/Accounts/:account/Calls.json", (req, res) => {
    const p = req.body as Record<string, string>;
    if (!p.To || !p.From || !p.Twiml || !p.StatusCallback) return void res.status(400).json({ code: 21205, message: "To, From, Twiml and StatusCallback are required", status: 400 });
    const callSid = sid("CA");
    res.status(201).json({ sid: callSid, status: "queued", to: p.To, from: p.From });
    void playCall(opts, step, { callSid, to: p.To, from: p.From, twiml: p.Twiml, statusCallback: p.StatusCallback }).catch((err: Error) =>
      opts.log.warn({ err: err.message }, "demo call failed"),
    );
  });

  r.post("/2010-04-01/Accounts/:account/Calls/:callSid/Streams.json", (req, res) => {
    const p = req.body as Record<string, string>;
    if (!p.Url) return void res.status(400).json({ code: 21205, message: "Url is required", status: 400 });
    const streamSid = sid("MZ");
    streams.set(streamSid, streamTones(opts, p.Url, streamSid, String(req.params.callSid), () => streams.delete(streamSid)));
    res.status(201).json({ sid: streamSid, status: "in-progress" });
  });

  r.post("/2010-04-01/Accounts/:account/Calls/:callSid/Streams/:streamSid.json", (req, res) => {
    streams.get(String(req.params.streamSid))?.();
    res.json({ sid: req.params.streamSid, status: "stopped" });
  });
  return r;
}

async function playCall(opts: DemoCallsOptions, step: number, c: { callSid: string; to: string; from: string; twiml: string; statusCallback: string }): Promise<void> {
  const post = async (url: string, params: Record<string, string>) => {
    const signature = twilio.getExpectedTwilioSignature(opts.authToken, url, params);
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature }, body: new URLSearchParams(params) });
    await res.arrayBuffer();
  };
  const wait = (n: number) => new Promise((resolve) => setTimeout(resolve, n * step).unref());
  const customer = /<Number[^>]*>([^<]+)<\/Number>/.exec(c.twiml)?.[1];
  const customerCallback = attr(c.twiml, "statusCallback");
  const dialAction = attr(c.twiml, "action");
  const recordingCallback = attr(c.twiml, "recordingStatusCallback");
  const base = { AccountSid: opts.accountSid, ApiVersion: "2010-04-01" };
  const agent = (status: string, seq: number, extra: Record<string, string> = {}) =>
    post(c.statusCallback, { ...base, CallSid: c.callSid, From: c.from, To: c.to, Direction: "outbound-api", CallStatus: status, SequenceNumber: String(seq), ...extra });
  await agent("initiated", 0);
  await agent("ringing", 1);
  await wait(2);
  await agent("in-progress", 2);
  if (!customer || !customerCallback || !dialAction) return agent("completed", 3, { CallDuration: "2" });
  const legSid = sid("CA");
  const leg = (status: string, seq: number, extra: Record<string, string> = {}) =>
    post(customerCallback, { ...base, CallSid: legSid, ParentCallSid: c.callSid, From: c.from, To: customer, Direction: "outbound-dial", CallStatus: status, SequenceNumber: String(seq), ...extra });
  await leg("initiated", 0);
  await leg("ringing", 1);
  await wait(3);
  await leg("in-progress", 2);
  const talk = 20;
  await wait(talk);
  await leg("completed", 3, { CallDuration: String(talk) });
  await post(dialAction, { ...base, CallSid: c.callSid, From: c.from, To: c.to, CallStatus: "in-progress", DialCallStatus: "completed", DialCallSid: legSid, DialCallDuration: String(talk), DialBridged: "true" });
  await agent("completed", 3, { CallDuration: String(talk + 5) });
  if (recordingCallback) {
    await post(recordingCallback, { ...base, CallSid: c.callSid, RecordingSid: sid("RE"), RecordingStatus: "completed", RecordingDuration: String(talk), RecordingChannels: "2", RecordingSource: "DialVerb" });
  }
}

/** G.711 µ-law of a linear 16-bit sample. */
function muLaw(sample: number): number {
  const BIAS = 0x84;
  const sign = sample < 0 ? 0x80 : 0;
  let s = Math.min(Math.abs(sample), 32635) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  s = ~(sign | (exponent << 4) | mantissa) & 0xff;
  return s;
}

/** A Media Stream as Twilio sends it: a low tone for the caller, a higher one for the agent, 20 ms a message. */
function streamTones(opts: DemoCallsOptions, url: string, streamSid: string, callSid: string, done: () => void): () => void {
  const signature = twilio.getExpectedTwilioSignature(opts.authToken, url, {});
  const ws = new WebSocket(url, { headers: { "x-twilio-signature": signature } });
  let timer: NodeJS.Timeout | undefined;
  let seq = 1;
  let n = 0;
  const stop = () => {
    clearInterval(timer);
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ event: "stop", sequenceNumber: String(seq++), streamSid, stop: { accountSid: opts.accountSid, callSid } }));
    ws.close();
    done();
  };
  ws.on("open", () => {
    ws.send(JSON.stringify({ event: "connected", protocol: "Call", version: "1.0.0" }));
    ws.send(JSON.stringify({ event: "start", sequenceNumber: String(seq++), streamSid, start: { streamSid, accountSid: opts.accountSid, callSid, tracks: ["inbound", "outbound"], mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 } } }));
    timer = setInterval(() => {
      for (const [track, freq] of [["inbound", 330], ["outbound", 440]] as const) {
        const frame = Buffer.alloc(160);
        for (let i = 0; i < 160; i++) frame[i] = muLaw(Math.round(Math.sin((2 * Math.PI * freq * (n * 160 + i)) / 8000) * 6000 * (Math.floor(n / 25) % 2)));
        ws.send(JSON.stringify({ event: "media", sequenceNumber: String(seq++), streamSid, media: { track, chunk: String(n + 1), timestamp: String(n * 20), payload: frame.toString("base64") } }));
      }
      if (++n >= 50 * 60) stop(); // a minute at most
    }, 20);
    timer.unref();
  });
  ws.on("error", (err) => opts.log.warn({ err: err.message }, "demo stream failed"));
  ws.on("close", () => {
    clearInterval(timer);
    done(); // closed by the service (the call ended): forget it too
  });
  return stop;
}
