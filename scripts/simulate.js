#!/usr/bin/env node
// `npm run simulate`: plays realistic, signed Twilio calls against a running instance, so the
// whole product can be seen without a Twilio account. It follows the service's own TwiML (see
// scripts/simulator.js): the agents who are signed in and available are rung and get the
// screen-pop; one of them answers, or nobody does and the caller leaves a voicemail or hangs up.
// Answered calls are recorded; missed ones become call-back tasks; a repeat caller's call closes
// its task; some callers come from a tracked website visit or a static tracking number.
//
//   npm run simulate -- [--url http://localhost:3000] [--calls 12] [--ring 3000] [--talk 2000] [--delay 50]
//
// In embedded mode (no TWILIO_AUTH_TOKEN) it signs with the development token the service keeps
// in DATA_DIR/dev-secrets.json and first asks the service for its demo data (users to sign in
// with, tracking numbers); otherwise it signs for PUBLIC_URL with TWILIO_AUTH_TOKEN.
const fs = require("node:fs");
const path = require("node:path");
const { parseArgs } = require("node:util");
const { Simulator } = require("./simulator");

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    calls: { type: "string", default: "12" },
    ring: { type: "string", default: "3000" },
    talk: { type: "string", default: "6000" },
    delay: { type: "string", default: "50" },
  },
  strict: true,
});
const url = (values.url ?? process.env.SIMULATE_URL ?? process.env.PUBLIC_URL ?? `http://localhost:${process.env.PORT ?? 3000}`).replace(/\/+$/, "");
const calls = Number(values.calls);
const [ringMs, talkMs, delayMs] = [values.ring, values.talk, values.delay].map(Number);
if (!Number.isInteger(calls) || calls < 1 || calls > 10_000 || ![ringMs, talkMs, delayMs].every((v) => Number.isFinite(v) && v >= 0)) {
  console.error("usage: npm run simulate -- [--url URL] [--calls 1..10000] [--ring ms] [--talk ms] [--delay ms]");
  process.exit(64);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function devToken() {
  const file = path.join(path.resolve(process.env.DATA_DIR ?? "./data"), "dev-secrets.json");
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")).twilioAuthToken;
  } catch {
    console.error(`No TWILIO_AUTH_TOKEN and no ${file}: start the service once in embedded mode (npm start), or set TWILIO_AUTH_TOKEN.`);
    process.exit(78);
  }
}

const demo = !process.env.TWILIO_AUTH_TOKEN;
const sim = new Simulator({ url, publicUrl: process.env.PUBLIC_URL ?? url, authToken: process.env.TWILIO_AUTH_TOKEN ?? devToken(), accountSid: process.env.TWILIO_ACCOUNT_SID, delayMs });
const NAMES = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Edsger Dijkstra", "Barbara Liskov", "Donald Knuth", "Margaret Hamilton"];
const AD_VISITS = [
  "https://shop.example.com/widgets?utm_source=google&utm_medium=cpc&utm_campaign=spring-sale&utm_term=blue+widgets&gclid=sim1",
  "https://shop.example.com/?utm_source=facebook&utm_medium=paid-social&utm_campaign=retargeting&fbclid=sim2",
  "https://shop.example.com/pricing?utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_term=acme+widgets&gclid=sim3",
];

/** Demo mode: users to sign in with and tracking numbers, from the service (idempotent). */
async function seed() {
  if (!demo) return undefined;
  const res = await fetch(`${url}/dev/seed`, { method: "POST", headers: { authorization: `Bearer ${sim.authToken}` } });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`demo seed answered ${res.status}`);
  const data = await res.json();
  console.log(`Open ${url} and sign in with password ${data.password} as:`);
  for (const u of data.users) console.log(`  ${u.email.padEnd(20)} ${u.role}`);
  console.log("Calls ring the agents who are signed in and available.\n");
  return data;
}

/** A website visit from an ad holds a pool number; undefined when there is no "website" pool. */
async function trackedNumber(i) {
  const res = await fetch(`${url}/api/tracking/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ pool: "website", landingPage: AD_VISITS[i % AD_VISITS.length], referrer: "https://www.google.com/" }),
  });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`tracking session answered ${res.status}`);
  return (await res.json()).number ?? undefined;
}

/** One call through to its end; returns what happened. */
async function play(from, scenario, { to, name }) {
  const call = await sim.incoming(from, { to, name });
  const rung = call.ringing;
  await sleep(ringMs);
  if (scenario === "abandoned" && rung.length) {
    await call.abandon();
    return "abandoned while ringing";
  }
  if (scenario === "answered" && rung.length) {
    const agent = rung[Math.floor(Math.random() * rung.length)];
    await call.answer(agent);
    await sleep(talkMs);
    await call.hangUp(45 + Math.floor(Math.random() * 240));
    return `answered by ${agent}`;
  }
  await call.miss({ message: scenario === "voicemail" || scenario === "answered" });
  return rung.length ? `missed (rang ${rung.join(", ")})` : "nobody available: voicemail";
}

const SCENARIOS = ["answered", "missed", "repeat", "voicemail", "answered", "abandoned", "tracked"];

async function main() {
  const seeded = await seed();
  console.log(`simulating ${calls} calls against ${url}`);
  for (let i = 0; i < calls; i++) {
    const scenario = SCENARIOS[i % SCENARIOS.length];
    const from = `+1415555${String(1000 + ((i * 7919) % 9000)).padStart(4, "0")}`;
    const name = NAMES[i % NAMES.length];
    // Some callers dial a static tracking number (its own source) rather than the main line.
    const statics = seeded?.staticNumbers ?? [];
    let to = i % 3 === 1 && statics.length ? statics[i % statics.length].number : undefined;
    if (scenario === "tracked") {
      to = await trackedNumber(i);
      if (!to) {
        console.log(`  ${i + 1}. tracked: skipped (no DNI pool named "website")`);
        continue;
      }
    }
    if (scenario === "repeat") {
      // A missed call, then the same caller again: if answered, the call-back task closes itself.
      console.log(`  ${i + 1}. ${from} repeat, first call: ${await play(from, "missed", { to, name })}`);
      console.log(`      then: ${await play(from, "answered", { to, name })}`);
      continue;
    }
    console.log(`  ${i + 1}. ${from} ${scenario}: ${await play(from, scenario === "tracked" ? "answered" : scenario, { to, name })}`);
  }
  if (seeded) await closeSomeDeals(seeded);
  console.log("done");
}

/** Demo mode: a sales team wins some of the deals the calls opened, so the reports show revenue. */
async function closeSomeDeals(seeded) {
  const admin = seeded.users.find((u) => u.role === "admin");
  const login = await api("POST", "/api/auth/login", undefined, { email: admin.email, password: seeded.password });
  const { items: pipelines } = await api("GET", "/api/pipelines", login.token);
  const won = pipelines.find((p) => p.isDefault)?.stages.find((s) => s.kind === "won") ?? pipelines[0]?.stages.find((s) => s.kind === "won");
  const { items: deals } = await api("GET", "/api/deals?status=open&limit=100", login.token);
  let n = 0;
  for (const [i, deal] of deals.entries()) {
    if (i % 2 || !won) continue;
    await api("PATCH", `/api/deals/${deal.id}`, login.token, { stageId: won.id, amount: 500 + ((i * 1237) % 4500) });
    n++;
  }
  if (n) console.log(`won ${n} of ${deals.length} open deals (as ${admin.email})`);
}

async function api(method, pathname, token, body) {
  const res = await fetch(`${url}${pathname}`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json();
  if (!res.ok) throw new Error(`${method} ${pathname} answered ${res.status}: ${data.error?.message}`);
  return data;
}

main().catch((err) => {
  console.error(err.message ?? err);
  process.exit(1);
});
