// Load generator, run as its own process: signed Twilio callbacks. Mode "new-calls": status
// callbacks, each for a new call from a new number (the ingest's heaviest path: contact + call +
// deal + task). Mode "calls": whole answered calls, eight deliveries each (bench/call-script.js).
const { randomBytes } = require("node:crypto");
const autocannon = require("autocannon");
const twilio = require("twilio");
const { newCall, deliveries, DELIVERIES_PER_CALL } = require("./call-script");

const [url, token, publicUrl, seconds, connections, amount, mode = "new-calls"] = process.argv.slice(2);
const statusPath = "/webhooks/twilio/status";
/** Whole calls are answered by this many agents in turn (bench/run.js makes them), as routing spreads them. */
const BENCH_AGENTS = 50;
let n = 0;

const nextNumber = () => `+1${String(2000000000 + ((process.pid * 100000 + ++n) % 7999999999))}`;

function signed(req, path, params) {
  return {
    ...req,
    method: "POST",
    path,
    body: new URLSearchParams(params).toString(),
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": twilio.getExpectedTwilioSignature(token, `${publicUrl}${path}`, params),
    },
  };
}

function newCallStatus(req) {
  return signed(req, statusPath, {
    AccountSid: `AC${"b".repeat(32)}`,
    CallSid: `CA${randomBytes(16).toString("hex")}`,
    From: nextNumber(),
    To: "+15005550100",
    Direction: "inbound",
    CallStatus: "completed",
    CallDuration: "12",
    ApiVersion: "2010-04-01",
  });
}

/** Each connection plays one call's deliveries in order, then the next call's. */
const callRequests = Array.from({ length: DELIVERIES_PER_CALL }, (_, i) => ({
  setupRequest: (req, context) => {
    if (i === 0) context.deliveries = deliveries(newCall(nextNumber(), "+15005550100", `client:bench-agent-${n % BENCH_AGENTS}`));
    const d = context.deliveries[i];
    return signed(req, d.path, d.params);
  },
}));

const cpuAtStart = process.cpuUsage();
const instance = autocannon(
  {
    url,
    connections: Number(connections),
    ...(Number(amount) > 0 ? { amount: Number(amount) } : { duration: Number(seconds) }),
    requests: mode === "calls" ? callRequests : [{ setupRequest: newCallStatus }],
  },
  (err, result) => {
    if (err) {
      console.error(err);
      process.exit(1);
    }
    // This process's own CPU: the load generator shares the cores with what it measures.
    const used = process.cpuUsage(cpuAtStart);
    process.stdout.write(
      JSON.stringify({
        requests: result.requests.total,
        rps: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        durationSec: result.duration,
        cpuMs: (used.user + used.system) / 1000,
      }),
    );
  },
);
instance.on("error", () => undefined);
