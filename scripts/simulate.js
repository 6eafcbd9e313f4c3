#!/usr/bin/env node
// `npm run simulate`: plays realistic, signed Twilio webhooks against a running instance, so the
// whole product can be seen without a Twilio account: answered calls with recordings, missed
// calls (call-back tasks), a repeat caller whose call back closes the task, voicemail, a caller
// hanging up while it rings, and, when a DNI pool named "website" exists, a call from a tracked
// website session.
//
//   npm run simulate -- [--url http://localhost:3000] [--calls 12] [--delay 300]
//
// Signatures are computed for PUBLIC_URL (what the service checks against; default: --url) with
// TWILIO_AUTH_TOKEN, or in embedded mode the development token the service keeps in
// DATA_DIR/dev-secrets.json.
const fs = require("node:fs");
const path = require("node:path");
const { parseArgs } = require("node:util");
const { randomBytes } = require("node:crypto");
const twilio = require("twilio");

const { values } = parseArgs({
  options: { url: { type: "string" }, calls: { type: "string", default: "12" }, delay: { type: "string", default: "300" } },
  strict: true,
});
const url = (values.url ?? process.env.SIMULATE_URL ?? process.env.PUBLIC_URL ?? `http://localhost:${process.env.PORT ?? 3000}`).replace(/\/+$/, "");
const publicUrl = (process.env.PUBLIC_URL ?? url).replace(/\/+$/, "");
const calls = Number(values.calls);
const delayMs = Number(values.delay);
if (!Number.isInteger(calls) || calls < 1 || calls > 10_000 || !Number.isFinite(delayMs) || delayMs < 0) {
  console.error("usage: npm run simulate -- [--url URL] [--calls 1..10000] [--delay ms]");
  process.exit(64);
}

function authToken() {
  if (process.env.TWILIO_AUTH_TOKEN) return process.env.TWILIO_AUTH_TOKEN;
  const file = path.join(path.resolve(process.env.DATA_DIR ?? "./data"), "dev-secrets.json");
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")).twilioAuthToken;
  } catch {
    console.error(`No TWILIO_AUTH_TOKEN and no ${file}: start the service once in embedded mode (npm start), or set TWILIO_AUTH_TOKEN.`);
    process.exit(78);
  }
}
const token = authToken();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sid = (prefix) => `${prefix}${randomBytes(16).toString("hex")}`;
const ACCOUNT = process.env.TWILIO_ACCOUNT_SID ?? `AC${"5".repeat(32)}`;
const OUR_NUMBER = "+15005550100";
const AGENT = "client:simulated-agent";
const NAMES = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Edsger Dijkstra", "Barbara Liskov", "Donald Knuth", "Margaret Hamilton"];

async function post(pathAndQuery, params) {
  const signature = twilio.getExpectedTwilioSignature(token, `${publicUrl}${pathAndQuery}`, params);
  const res = await fetch(`${url}${pathAndQuery}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
    body: new URLSearchParams(params),
  });
  await res.arrayBuffer();
  if (res.status >= 300) throw new Error(`${pathAndQuery} answered ${res.status}${res.status === 403 ? " (is PUBLIC_URL the service's own?)" : ""}`);
  await sleep(delayMs);
}

/** One inbound call as Twilio reports it; `how` is what happens after the agents ring. */
async function playCall(from, how, opts = {}) {
  const callSid = sid("CA");
  const leg = sid("CA");
  const to = opts.to ?? OUR_NUMBER;
  const base = { AccountSid: ACCOUNT, ApiVersion: "2010-04-01", CallSid: callSid, From: from, To: to, Caller: from, Called: to, Direction: "inbound" };
  const legStatus = (status, seq, extra = {}) =>
    post("/webhooks/twilio/status", { ...base, CallSid: leg, To: AGENT, Direction: "outbound-dial", ParentCallSid: callSid, CallStatus: status, SequenceNumber: String(seq), CallbackSource: "call-progress-events", ...extra });

  await post("/webhooks/twilio/voice", { ...base, CallStatus: "ringing", CallerName: opts.name ?? "" });
  if (how === "voicemail") {
    // Nobody could take it: the caller leaves a message.
    const rec = sid("RE");
    await post("/webhooks/twilio/status", { ...base, CallStatus: "completed", CallDuration: "25", CallbackSource: "call-progress-events" });
    await post("/webhooks/twilio/recording?kind=voicemail", { AccountSid: ACCOUNT, CallSid: callSid, RecordingSid: rec, RecordingStatus: "completed", RecordingDuration: "18", RecordingChannels: "1", RecordingSource: "RecordVerb" });
    return;
  }
  await legStatus("initiated", 0);
  await legStatus("ringing", 1);
  if (how === "abandoned") {
    await legStatus("canceled", 2);
    await post("/webhooks/twilio/status", { ...base, CallStatus: "completed", CallDuration: "6", CallbackSource: "call-progress-events" });
    return;
  }
  if (how === "missed") {
    await legStatus("no-answer", 2);
    await post("/webhooks/twilio/dial?stage=all", { ...base, CallStatus: "in-progress", DialCallStatus: "no-answer", DialCallSid: leg, DialBridged: "false" });
    await post("/webhooks/twilio/status", { ...base, CallStatus: "completed", CallDuration: "30", CallbackSource: "call-progress-events" });
    return;
  }
  await legStatus("in-progress", 2);
  const talk = String(45 + Math.floor(Math.random() * 240));
  await legStatus("completed", 3, { CallDuration: talk });
  await post("/webhooks/twilio/dial?stage=all", { ...base, CallStatus: "in-progress", DialCallStatus: "completed", DialCallSid: leg, DialCallDuration: talk, DialBridged: "true" });
  await post("/webhooks/twilio/status", { ...base, CallStatus: "completed", CallDuration: String(Number(talk) + 8), CallbackSource: "call-progress-events" });
  await post("/webhooks/twilio/recording", { AccountSid: ACCOUNT, CallSid: callSid, RecordingSid: sid("RE"), RecordingStatus: "completed", RecordingDuration: talk, RecordingChannels: "2", RecordingSource: "DialVerb" });
}

/** A website visit from an ad, holding a pool number; undefined when there is no "website" pool. */
async function trackedNumber() {
  const res = await fetch(`${url}/api/tracking/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ pool: "website", landingPage: "https://shop.example.com/widgets?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_term=blue+widgets&gclid=sim", referrer: "https://www.google.com/" }),
  });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`tracking session answered ${res.status}`);
  return (await res.json()).number ?? undefined;
}

const SCENARIOS = ["answered", "missed", "repeat", "voicemail", "abandoned", "tracked"];

async function main() {
  console.log(`simulating ${calls} calls against ${url}`);
  const counts = {};
  for (let i = 0; i < calls; i++) {
    const scenario = SCENARIOS[i % SCENARIOS.length];
    const from = `+1415555${String(1000 + ((i * 7919) % 9000)).padStart(4, "0")}`;
    const name = NAMES[i % NAMES.length];
    if (scenario === "repeat") {
      // A missed call, then the same caller again, answered: the call-back task closes itself.
      await playCall(from, "missed", { name });
      await playCall(from, "answered", { name });
    } else if (scenario === "tracked") {
      const number = await trackedNumber();
      if (!number) {
        console.log(`  ${i + 1}. tracked: skipped (no DNI pool named "website"; create one with POST /api/tracking/pools and add numbers)`);
        continue;
      }
      await playCall(from, "answered", { name, to: number });
    } else {
      await playCall(from, scenario, { name });
    }
    counts[scenario] = (counts[scenario] ?? 0) + 1;
    console.log(`  ${i + 1}. ${scenario} from ${from}`);
  }
  console.log(`done: ${JSON.stringify(counts)}`);
}

main().catch((err) => {
  console.error(err.message ?? err);
  process.exit(1);
});
