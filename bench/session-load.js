// Load generator, run as its own process: website visits asking for a DNI number, each a new session.
const autocannon = require("autocannon");

const [url, pool, seconds, connections] = process.argv.slice(2);
let n = 0;

const instance = autocannon(
  {
    url,
    connections: Number(connections),
    duration: Number(seconds),
    requests: [
      {
        method: "POST",
        path: "/api/tracking/sessions",
        setupRequest: (req) => ({
          ...req,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ pool, landingPage: `https://shop.example.com/?utm_source=google&utm_medium=cpc&utm_term=kw${++n % 500}&gclid=g${n}` }),
        }),
      },
    ],
  },
  (err, result) => {
    if (err) {
      console.error(err);
      process.exit(1);
    }
    process.stdout.write(
      JSON.stringify({ requests: result.requests.total, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors }),
    );
  },
);
instance.on("error", () => undefined);
