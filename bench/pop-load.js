// Agents and calls, run as its own process: connects N agent sockets, then sends signed voice
// webhooks at a fixed rate and times webhook → first screen-pop for each call. Prints JSON.
const { randomBytes } = require("node:crypto");
const { io } = require("socket.io-client");
const twilio = require("twilio");
const { cpuMeter } = require("./cpu");

const [url, token, publicUrl, tokensFile, agentsArg, rateArg, secondsArg, serverPidArg] = process.argv.slice(2);
const tokens = require(tokensFile);
const agents = Number(agentsArg);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sent = new Map(); // from → send time
const latencies = [];

/**
 * Nearest-rank percentile: the smallest value at or above p% of the samples. (It used to take
 * the next rank up, so a p99 of 100 samples was their maximum.)
 */
function pct(arr, p) {
  if (!arr.length) return null;
  const s = [...arr].sort((a, b) => a - b);
  return +s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)].toFixed(1);
}

async function main() {
  const sockets = [];
  for (let i = 0; i < agents; i++) {
    const s = io(url, { auth: { token: tokens[i % tokens.length] }, transports: ["websocket"], reconnection: false, forceNew: true });
    s.on("screen-pop", (pop, ack) => {
      if (typeof ack === "function") ack({ ok: true });
      const from = pop.call && pop.call.from;
      const t0 = sent.get(from);
      if (t0 !== undefined) {
        latencies.push(performance.now() - t0);
        sent.delete(from);
      }
    });
    sockets.push(new Promise((resolve, reject) => s.once("connect", () => resolve(s)).once("connect_error", reject)));
  }
  const connected = await Promise.all(sockets);
  let cpuMsPerCall;
  await sleep(1500); // presence settles
  if (rate > 0) {
    // Warm-up, not counted: a second of calls at 20/s, so a cold process (JIT, first
    // connections, first plans) is not what the tail measures; both servers get the same.
    await sendCalls(20, 1);
    await sleep(1500);
    latencies.length = 0;
    sent.clear();
    // The counted calls' CPU (the agents' connecting and the warm-up excluded).
    const meter = serverPidArg ? cpuMeter(Number(serverPidArg)) : undefined;
    await sendCalls(rate, seconds);
    await sleep(5000); // late pops count; anything later is lost
    cpuMsPerCall = meter?.per(rate * seconds);
  } else {
    await sleep(seconds * 1000); // hold the connections while the orchestrator reads memory
  }
  const lost = rate > 0 ? sent.size : 0;
  process.stdout.write(JSON.stringify({ agents: connected.length, rate, calls: rate * seconds, popped: latencies.length, lost, p50: pct(latencies, 50), p99: pct(latencies, 99), cpuMsPerCall }));
  for (const s of connected) s.disconnect();
  process.exit(0);
}

/** Signed voice webhooks at a fixed rate, each a new call from a new number. */
async function sendCalls(rate, seconds) {
  const total = rate * seconds;
  const interval = 1000 / rate;
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const params = {
      AccountSid: `AC${"c".repeat(32)}`,
      CallSid: `CA${randomBytes(16).toString("hex")}`,
      From: `+1${String(3000000000 + Math.floor(Math.random() * 999999999))}`,
      To: "+15005550100",
      CallStatus: "ringing",
      Direction: "inbound",
    };
    sent.set(params.From, performance.now());
    fetch(`${url}/webhooks/twilio/voice`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilio.getExpectedTwilioSignature(token, `${publicUrl}/webhooks/twilio/voice`, params) },
      body: new URLSearchParams(params).toString(),
    }).catch(() => undefined);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
