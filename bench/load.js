// Load generator, run as its own process: signed Twilio status callbacks, each for a new call
// from a new number (the ingest's heaviest path: contact + call + deal + task).
const { randomBytes } = require("node:crypto");
const autocannon = require("autocannon");
const twilio = require("twilio");

const [url, token, publicUrl, seconds, connections, amount] = process.argv.slice(2);
const path = "/webhooks/twilio/status";
let n = 0;

function body() {
  n++;
  const params = {
    AccountSid: `AC${"b".repeat(32)}`,
    CallSid: `CA${randomBytes(16).toString("hex")}`,
    From: `+1${String(2000000000 + ((process.pid * 100000 + n) % 7999999999))}`,
    To: "+15005550100",
    Direction: "inbound",
    CallStatus: "completed",
    CallDuration: "12",
    ApiVersion: "2010-04-01",
  };
  return { params, body: new URLSearchParams(params).toString() };
}

const instance = autocannon(
  {
    url,
    connections: Number(connections),
    ...(Number(amount) > 0 ? { amount: Number(amount) } : { duration: Number(seconds) }),
    requests: [
      {
        method: "POST",
        path,
        setupRequest: (req) => {
          const { params, body: b } = body();
          return {
            ...req,
            body: b,
            headers: {
              "content-type": "application/x-www-form-urlencoded",
              "x-twilio-signature": twilio.getExpectedTwilioSignature(token, `${publicUrl}${path}`, params),
            },
          };
        },
      },
    ],
  },
  (err, result) => {
    if (err) {
      console.error(err);
      process.exit(1);
    }
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
      }),
    );
  },
);
instance.on("error", () => undefined);
