// Agents and calls, run as its own process: connects N agent sockets, then sends signed voice
// webhooks at a fixed rate and times webhook → first screen-pop for each call. Prints JSON.
// BENCH_POP_TRACE=file appends each call's phase, send time (ms from the first call), latency and
// send time as epoch ms.
const { randomBytes } = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const { io } = require("socket.io-client");
const twilio = require("twilio");
const { cpuMeter, machineMeter } = require("./cpu");

const [url, token, publicUrl, tokensFile, agentsArg, rateArg, secondsArg, serverPidArg] = process.argv.slice(2);
const tokens = require(tokensFile);
const agents = Number(agentsArg);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/**
 * Webhooks go out through node:http with kept-alive connections, not fetch: in a CPU profile of
 * this process at 100 calls/s, fetch (undici and its web streams) was about a third of its CPU,
 * which it takes from the two cores the servers under test share with it.
 */
const agent = new http.Agent({ keepAlive: true });
const sent = new Map(); // from → { t0: send time, phase }
/** Latencies by phase: the burst's first seconds, and the steady state after them. */
const latencies = { burst: [], steady: [] };
/** Seconds of calls at the full rate before the steady state is measured. */
const BURST_SECONDS = 5;
const traceFile = process.env.BENCH_POP_TRACE;
let phase = "warm-up";
let firstSend;

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
      const call = sent.get(from);
      if (call !== undefined) {
        const ms = performance.now() - call.t0;
        latencies[call.phase]?.push(ms);
        // The last column, the send's wall-clock time (epoch ms), matches other logs (PostgreSQL's, a probe's).
        if (traceFile) fs.appendFileSync(traceFile, `${call.phase} ${(call.t0 - firstSend).toFixed(1)} ${ms.toFixed(1)} ${Math.round(performance.timeOrigin + call.t0)}\n`);
        sent.delete(from);
      }
    });
    sockets.push(new Promise((resolve, reject) => s.once("connect", () => resolve(s)).once("connect_error", reject)));
  }
  const connected = await Promise.all(sockets);
  let cpuMsPerCall;
  await sleep(1500); // presence settles
  if (rate > 0) {
    // Warm-up, not counted: a second of calls at 20/s, so that the first calls of a cold
    // process (JIT, a first connection) are not what the burst measures.
    await sendCalls(20, 1);
    await sleep(1500);
    sent.clear();
    // Then the rate, without a pause: its first seconds are a burst from quiet, measured apart
    // (the pool opens connections, each plans its statements, a backlog forms and drains), and
    // the steady state after them. Both servers get the same.
    phase = "burst";
    await sendCalls(rate, BURST_SECONDS);
    phase = "steady";
    // The steady calls' CPU (the agents' connecting, the warm-up and the burst excluded), with
    // the late pops' work; the machine's share while the calls came.
    const meter = serverPidArg ? cpuMeter(Number(serverPidArg)) : undefined;
    const machine = machineMeter();
    await sendCalls(rate, seconds);
    const whileSending = machine.share();
    await sleep(5000); // late pops count; anything later is lost
    cpuMsPerCall = meter && { ...meter.per(rate * seconds), machine: whileSending };
  } else {
    await sleep(seconds * 1000); // hold the connections while the orchestrator reads memory
  }
  const lost = rate > 0 ? sent.size : 0;
  const { burst, steady } = latencies;
  process.stdout.write(
    JSON.stringify({
      agents: connected.length,
      rate,
      calls: rate * seconds,
      popped: steady.length,
      lost,
      p50: pct(steady, 50),
      p99: pct(steady, 99),
      burst: { seconds: rate > 0 ? BURST_SECONDS : 0, calls: rate > 0 ? rate * BURST_SECONDS : 0, popped: burst.length, p50: pct(burst, 50), p99: pct(burst, 99) },
      cpuMsPerCall,
    }),
  );
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
    const body = new URLSearchParams(params).toString();
    const signature = twilio.getExpectedTwilioSignature(token, `${publicUrl}/webhooks/twilio/voice`, params);
    firstSend ??= performance.now();
    sent.set(params.From, { t0: performance.now(), phase });
    http
      .request(`${url}/webhooks/twilio/voice`, {
        method: "POST",
        agent,
        headers: { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(body), "x-twilio-signature": signature },
      })
      .on("response", (res) => res.resume())
      .on("error", () => undefined)
      .end(body);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
