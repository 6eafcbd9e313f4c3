#!/usr/bin/env node
// `npm run bench`: production mode (PostgreSQL + Redis) on this machine, load from a separate
// process on loopback, bounded in time. Prints a table and writes bench/results.json.
const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const { Client } = require("pg");
const { trackingBench } = require("./tracking");
const { generateHistory } = require("./history");
const { endRingingCalls } = require("./end-calls");
const { cpuMeter, cpuSeconds, machineMeter } = require("./cpu");
const { dropQueueKeys: dropKeys } = require("../scripts/drop-queue-keys");

const root = path.resolve(__dirname, "..");
const PG = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";
const REDIS = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 20);
/**
 * Each ack load follows one not measured, on both servers: a server runs for days, so its hot
 * path is compiled. Measured cold, both rates were ~7% lower, their ratio the same.
 */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const BACKLOG = Number(process.env.BENCH_BACKLOG || 10000);
const TOKEN = "bench-twilio-token";

const step = (msg) => process.stderr.write(`[bench] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

function dbUrl(name) {
  const u = new URL(PG);
  u.pathname = `/${name}`;
  return u.toString();
}

async function sql(url, text, params) {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows;
  } finally {
    await c.end();
  }
}

/** A run's queue and Socket.IO keys go with its database. */
const dropQueueKeys = (prefix) => dropKeys(REDIS, prefix);

async function waitHttp(url, timeoutMs = 60000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error(`${url} did not come up`);
}

async function waitPort(port, timeoutMs = 30000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await new Promise((r) => net.connect(port, "127.0.0.1").on("connect", function () { this.destroy(); r(true); }).on("error", () => r(false)));
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`port ${port} did not open`);
}

function load(url, publicUrl, { seconds = SECONDS, amount = 0, mode = "new-calls" } = {}) {
  const out = execFileSync(process.execPath, [path.join(__dirname, "load.js"), url, TOKEN, publicUrl, String(seconds), String(CONNECTIONS), String(amount), mode], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.toString());
}

/**
 * The load of (a), with the CPU each answered request cost the server, PostgreSQL, Redis and the
 * load generator: on two shared cores, the sum is what bounds the rate.
 */
function measuredLoad(serverPid, url, publicUrl) {
  if (WARMUP_SECONDS > 0) load(url, publicUrl, { seconds: WARMUP_SECONDS });
  const meter = cpuMeter(serverPid);
  const result = load(url, publicUrl);
  const cpuMsPerRequest = { ...meter.per(result.requests), loadGenerator: Math.round((result.cpuMs / Math.max(1, result.requests)) * 100) / 100 };
  return { ...result, cpuMsPerRequest };
}

/** A baseline server of this folder on a free port, once it accepts connections. */
async function startBaseline(script) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [path.join(__dirname, script)], {
    env: { ...process.env, PORT: String(port), PUBLIC_URL: url, TWILIO_AUTH_TOKEN: TOKEN },
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitPort(port);
  return { child, url };
}

/** BENCH_PROFILE=dir: the service's processes write CPU profiles there when they stop. */
const profileArgs = process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(process.env.BENCH_PROFILE)}`] : [];

/** The node flags the web process runs with in `npm start` and the Dockerfile (docs/performance.md). */
const WEB_NODE_FLAGS = ["--max-semi-space-size=32"];

function startService(script, env) {
  const flags = script === "main.js" ? WEB_NODE_FLAGS : [];
  const child = spawn(process.execPath, [...profileArgs, ...flags, path.join(root, "dist/src", script)], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] });
  return child;
}

const stop = (child) => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : (child.once("exit", r), child.kill("SIGTERM"))));

function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : null;
}

/** `serverPid`: the server whose CPU per call pop-load reports, with PostgreSQL's and Redis's. */
function popLoad(url, publicUrl, tokensFile, agents, rate, seconds, serverPid) {
  const out = execFileSync(process.execPath, [path.join(__dirname, "pop-load.js"), url, TOKEN, publicUrl, tokensFile, String(agents), String(rate), String(seconds), String(serverPid ?? "")], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.toString());
}

const ratio = (a, b) => (a && b ? a / b : null);

/** (b) webhook → pop latency with AGENTS connected, beside bare express + socket.io; (d) memory. */
async function realtimeBench(results) {
  const { SignJWT } = require("jose");
  const AGENTS = Number(process.env.BENCH_AGENTS || 200);
  const RATES = (process.env.BENCH_RATES || "20,100").split(",").map(Number);
  // 15 s: 300 calls at 20/s, so that a p99 is the 297th of 300 pops rather than the slowest of
  // 100 (one stall of the shared machine was the whole figure).
  const POP_SECONDS = Number(process.env.BENCH_POP_SECONDS || 15);
  const POP_TOPOLOGY = process.env.BENCH_POP_TOPOLOGY || "all";
  const POP_HISTORY = Number(process.env.BENCH_POP_HISTORY ?? 100_000);
  const dbName = `crm_bench_rt_${Date.now().toString(36)}`;
  await sql(PG, `CREATE DATABASE ${dbName}`);
  const secret = "bench-secret-bench-secret-bench-secret-1234";
  const children = [];
  try {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    const env = {
      PORT: String(port),
      PUBLIC_URL: publicUrl,
      DATABASE_URL: dbUrl(dbName),
      REDIS_URL: REDIS,
      JWT_SECRET: secret,
      TWILIO_AUTH_TOKEN: TOKEN,
      LOG_LEVEL: "warn",
      SERVICE_ROLE: POP_TOPOLOGY === "all" ? "all" : "web",
      QUEUE_PREFIX: dbName,
    };
    // One process does it all by default; BENCH_POP_TOPOLOGY=web+worker runs production's
    // topology instead (docker-compose.yml: a web process holds the sockets, a worker applies
    // the webhooks and emits through the Redis Streams adapter), which on two shared cores
    // measured slower at 100 calls/s (another process and a Redis hop on the same CPUs).
    const svc = startService("main.js", env);
    children.push(svc);
    await waitHttp(`${publicUrl}/readyz`);
    if (POP_TOPOLOGY !== "all") children.push(startService("worker.js", { ...env, PORT: String(await freePort()) }));
    await sleep(1000);
    results.memory = { idleRssMb: rssMb(svc.pid) };

    // 1,000 agent users; only the first AGENTS have a dial target, so routing rings among them.
    const rows = await sql(
      dbUrl(dbName),
      `INSERT INTO users (email, name, role, password_hash, dial_target)
       SELECT 'agent' || i || '@bench.test', 'Agent ' || i, 'agent', 'scrypt$1$1$1$x$x', CASE WHEN i < $1 THEN 'client:a' || i END
       FROM generate_series(0, 999) AS i RETURNING id`,
      [AGENTS],
    );
    if (POP_HISTORY > 0) {
      step(`pops: generating ${POP_HISTORY} earlier calls`);
      await generateHistory(sql, dbUrl(dbName), POP_HISTORY);
    }
    const key = new TextEncoder().encode(secret);
    const tokens = [];
    for (const r of rows) {
      tokens.push(await new SignJWT({ role: "agent" }).setProtectedHeader({ alg: "HS256" }).setSubject(r.id).setIssuer("callcenter-crm").setAudience("callcenter-crm:agents").setExpirationTime("2h").sign(key));
    }
    const tokensFile = path.join(os.tmpdir(), `${dbName}-tokens.json`);
    fs.writeFileSync(tokensFile, JSON.stringify(tokens));

    const { child: bare, url: barePublic } = await startBaseline("bare-realtime.js");
    children.push(bare);

    results.pops = [];
    results.popTopology = POP_TOPOLOGY;
    for (const rate of RATES) {
      step(`pops: ${rate} calls/s, ${AGENTS} agents`);
      const service = popLoad(publicUrl, publicUrl, tokensFile, AGENTS, rate, POP_SECONDS, svc.pid);
      const baseline = popLoad(barePublic, barePublic, tokensFile, AGENTS, rate, POP_SECONDS, bare.pid);
      results.pops.push({ rate, service, bare: baseline, p99Ratio: ratio(service.p99, baseline.p99), burstP99Ratio: ratio(service.burst.p99, baseline.burst.p99) });
      // Every run, and the memory figure after them, starts with no call ringing.
      const ended = await endRingingCalls({ publicUrl, token: TOKEN, query: (text) => sql(dbUrl(dbName), text) });
      step(`pops: ${ended} calls ended unanswered`);
    }

    step("memory: 1,000 connected agents");
    const holder = spawn(process.execPath, [path.join(__dirname, "pop-load.js"), publicUrl, TOKEN, publicUrl, tokensFile, "1000", "0", "12"], { stdio: "ignore" });
    children.push(holder);
    const t0 = Date.now();
    let connectedCount = 0;
    while (Date.now() - t0 < 10000) {
      await sleep(500);
      connectedCount = Number((await sql(dbUrl(dbName), `SELECT count(*) AS n FROM users WHERE presence = 'available'`))[0].n);
      if (connectedCount >= 1000) break;
    }
    await sleep(500);
    results.memory.agentsConnected = connectedCount;
    results.memory.rssWith1000AgentsMb = rssMb(svc.pid);
    fs.rmSync(tokensFile, { force: true });
  } finally {
    for (const c of children) await stop(c);
    // BENCH_KEEP_DB=1 keeps the pops run's database, to look at its rows and plans afterwards.
    if (!process.env.BENCH_KEEP_DB) await sql(PG, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await dropQueueKeys(dbName);
  }
}

/**
 * BENCH_ONLY=ingest,pops,tracking (any of them) runs those parts; unset runs everything.
 * BENCH_ONLY=acks is ingest's first part alone: the acknowledgements beside the bare server.
 */
const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(",") : ["ingest", "pops", "tracking"];

async function main() {
  execFileSync(process.execPath, [path.join(root, "scripts/build-if-stale.js")], { stdio: "inherit" });
  const results = { when: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, seconds: SECONDS, connections: CONNECTIONS };
  if (ONLY.includes("ingest") || ONLY.includes("acks")) await ingestBench(results, { acksOnly: !ONLY.includes("ingest") });
  if (ONLY.includes("pops")) await realtimeBench(results);
  if (ONLY.includes("tracking")) await trackingBench(results, { sql, dbUrl, freePort, waitHttp, stop, step, root, PG, REDIS, dropQueueKeys, WEB_NODE_FLAGS });
  printResults(results);
}

/** (a) acks beside a bare server, (c) the queue draining a backlog. */
async function ingestBench(results, { acksOnly }) {
  const dbName = `crm_bench_${Date.now().toString(36)}`;
  await sql(PG, `CREATE DATABASE ${dbName}`);
  const children = [];
  try {
    step("baseline: bare express + signature check");
    // (a) baseline: bare express + the same signature check.
    const { child: bare, url: barePublic } = await startBaseline("bare-server.js");
    children.push(bare);
    results.bare = measuredLoad(bare.pid, `${barePublic}/webhooks/twilio/status`, barePublic);
    await stop(bare);

    step("service: web role");
    // (a) the service, web role only: intake = verify + inbox commit + enqueue + 204.
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    const env = {
      PORT: String(port),
      PUBLIC_URL: publicUrl,
      DATABASE_URL: dbUrl(dbName),
      REDIS_URL: REDIS,
      JWT_SECRET: "bench-secret-bench-secret-bench-secret-1234",
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_ACCOUNT_SID: `AC${"b".repeat(32)}`,
      LOG_LEVEL: "warn",
      SERVICE_ROLE: "web",
      QUEUE_PREFIX: dbName,
    };
    const web = startService("main.js", env);
    children.push(web);
    await waitHttp(`${publicUrl}/readyz`);
    results.service = measuredLoad(web.pid, `${publicUrl}/webhooks/twilio/status`, publicUrl);
    results.ackRatio = results.service.rps / results.bare.rps;
    if (acksOnly) return;

    // (c) one worker drains a backlog: first of new calls from new numbers (every event makes a
    // contact, a call, a deal and a task), then of whole answered calls (eight events each).
    const pending = async () => Number((await sql(dbUrl(dbName), `SELECT count(*) AS n FROM inbox WHERE status IN ('pending','deferred')`))[0].n);
    const drain = async (mode) => {
      step(`queue (${mode}): building the backlog`);
      const have = await pending();
      if (have < BACKLOG) load(`${publicUrl}/webhooks/twilio/status`, publicUrl, { amount: BACKLOG - have, mode });
      const backlog = await pending();
      step(`queue (${mode}): one worker drains ${backlog} deliveries`);
      const worker = startService("worker.js", { ...env, PORT: String(await freePort()) });
      children.push(worker);
      const cpu0 = { postgres: cpuSeconds("postgres"), redis: cpuSeconds("redis-server") };
      const machine = machineMeter();
      const t0 = Date.now();
      // Polled on one connection for "anything left", not counted: counting 10,000 pending rows
      // four times a second cost PostgreSQL ~10 ms each time (and a new connection a backend),
      // CPU taken from the worker being measured.
      const poll = new Client({ connectionString: dbUrl(dbName) });
      await poll.connect();
      const anyLeft = async () => (await poll.query(`SELECT EXISTS (SELECT 1 FROM inbox WHERE status IN ('pending','deferred')) AS left`)).rows[0].left;
      while ((await anyLeft()) && Date.now() - t0 < 300000) {
        await sleep(250);
        if (process.env.BENCH_DEBUG) step(`left ${await pending()}`);
      }
      const drainSec = (Date.now() - t0) / 1000;
      await poll.end();
      const left = await pending();
      // Where the CPU went, per event: the worker process, PostgreSQL (every backend, so the
      // polls are in it too, well under a millisecond each) and Redis.
      const perEvent = (s) => Math.round((s / backlog) * 1e6) / 1e3;
      const cpuMsPerEvent = {
        worker: perEvent(cpuSeconds(worker.pid)),
        postgres: perEvent(cpuSeconds("postgres") - cpu0.postgres),
        redis: perEvent(cpuSeconds("redis-server") - cpu0.redis),
        machine: machine.share(),
      };
      await stop(worker);
      return { backlog, drainedIn: drainSec, eventsPerSec: backlog / drainSec, leftOver: left, cpuMsPerEvent };
    };
    results.queue = await drain("new-calls");
    const count = async () =>
      (await sql(dbUrl(dbName), `SELECT (SELECT count(*) FROM calls) AS calls, (SELECT count(*) FROM contacts) AS contacts, (SELECT count(*) FROM tasks) AS tasks, (SELECT count(*) FROM calls WHERE outcome = 'answered') AS answered, (SELECT count(*) FROM recordings) AS recordings`))[0];
    results.applied = await count();
    // The calls are answered by 50 available agents in turn (bench/load.js), as routing
    // spreads them; one agent answering every call would queue all transactions on its row.
    await sql(
      dbUrl(dbName),
      `INSERT INTO users (email, name, role, password_hash, dial_target, presence)
       SELECT 'bench-agent-' || i || '@bench.test', 'Bench Agent ' || i, 'agent', 'scrypt$1$1$1$x$x', 'client:bench-agent-' || i, 'available' FROM generate_series(0, 49) AS i`,
    );
    results.queueCalls = await drain("calls");
    results.appliedCalls = await count();
  } finally {
    step("stopping");
    for (const c of children) await stop(c);
    step("stopped");
    await sql(PG, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await dropQueueKeys(dbName);
  }
}

function printResults(results) {
  const fmt = (n, d = 0) => Number(n).toFixed(d);
  const cpuLine = (c) => (c ? `${fmt(c.worker ?? c.server, 2)} / ${fmt(c.postgres, 2)} / ${fmt(c.redis, 2)}` : "n/a");
  /** A CPU figure, then the load generator's in parentheses. */
  const withLoadGenerator = (text, c) => `${text} (${fmt(c?.loadGenerator, 2)})`;
  /** The row under a measured window: how busy the machine was, and how much the hypervisor took. */
  const machineRow = (c, label = "  machine meanwhile: busy / stolen by the hypervisor") => [label, c?.machine ? `${c.machine.busyPct}% / ${c.machine.stealPct}%` : "n/a"];
  const ratioText = (r) => (r === null ? "n/a" : fmt(r, 1));
  const rows = [];
  if (results.service) {
    rows.push(
      ["signed Twilio callbacks acked / s (service, web role)", fmt(results.service.rps)],
      ["  ack latency p50 / p99 (ms)", `${results.service.p50} / ${results.service.p99}`],
      ["  non-2xx / errors", `${results.service.non2xx} / ${results.service.errors}`],
      ["  CPU ms per ack: web / PostgreSQL / Redis (load generator)", withLoadGenerator(cpuLine(results.service.cpuMsPerRequest), results.service.cpuMsPerRequest)],
      machineRow(results.service.cpuMsPerRequest),
      ["bare express + signature check / s", fmt(results.bare.rps)],
      ["  latency p50 / p99 (ms)", `${results.bare.p50} / ${results.bare.p99}`],
      ["  CPU ms per request: server (load generator)", withLoadGenerator(fmt(results.bare.cpuMsPerRequest.server, 2), results.bare.cpuMsPerRequest)],
      machineRow(results.bare.cpuMsPerRequest),
      ["service / bare ratio", fmt(results.ackRatio, 2)],
    );
  }
  if (results.queue) {
    rows.push(
      [`queue, new calls from new numbers: backlog of ${results.queue.backlog} applied in (s)`, fmt(results.queue.drainedIn, 1)],
      ["  events applied / s (one worker)", fmt(results.queue.eventsPerSec)],
      ["  CPU ms per event: worker / PostgreSQL / Redis", cpuLine(results.queue.cpuMsPerEvent)],
      machineRow(results.queue.cpuMsPerEvent),
      ["  rows: calls / contacts / tasks", `${results.applied.calls} / ${results.applied.contacts} / ${results.applied.tasks}`],
      [`queue, whole answered calls (8 events each): backlog of ${results.queueCalls.backlog} applied in (s)`, fmt(results.queueCalls.drainedIn, 1)],
      ["  events applied / s (one worker)", fmt(results.queueCalls.eventsPerSec)],
      ["  calls / s", fmt(results.queueCalls.eventsPerSec / 8)],
      ["  CPU ms per event: worker / PostgreSQL / Redis", cpuLine(results.queueCalls.cpuMsPerEvent)],
      machineRow(results.queueCalls.cpuMsPerEvent),
      [
        "  rows added: calls / answered / recordings",
        `${results.appliedCalls.calls - results.applied.calls} / ${results.appliedCalls.answered - results.applied.answered} / ${results.appliedCalls.recordings - results.applied.recordings}`,
      ],
    );
  }
  if (results.pops) {
    rows.push(
      ...results.pops.flatMap((p) => [
        [`webhook → pop at ${p.rate} calls/s, ${p.service.agents} agents (${results.popTopology}), steady: p50 / p99 (ms)`, `${p.service.p50} / ${p.service.p99}`],
        [`  its first ${p.service.burst.seconds} s, coming from 20 calls/s: p50 / p99 (ms)`, `${p.service.burst.p50} / ${p.service.burst.p99}`],
        [`  popped / lost of ${p.service.burst.calls + p.service.calls} calls`, `${p.service.burst.popped + p.service.popped} / ${p.service.lost}`],
        ["  CPU ms per call (steady): service / PostgreSQL / Redis (load generator)", withLoadGenerator(cpuLine(p.service.cpuMsPerCall), p.service.cpuMsPerCall)],
        machineRow(p.service.cpuMsPerCall, "  machine while the calls came: busy / stolen by the hypervisor"),
        [`  bare express + socket.io, steady: p50 / p99 (ms); burst p99; lost`, `${p.bare.p50} / ${p.bare.p99}; ${p.bare.burst.p99}; ${p.bare.lost}`],
        ["  bare: CPU ms per call, server (load generator)", p.bare.cpuMsPerCall ? withLoadGenerator(fmt(p.bare.cpuMsPerCall.server, 2), p.bare.cpuMsPerCall) : "n/a"],
        machineRow(p.bare.cpuMsPerCall, "  bare: machine while the calls came, busy / stolen"),
        ["  p99 ratio service / bare: steady, burst", `${ratioText(p.p99Ratio)}, ${ratioText(p.burstP99Ratio)}`],
      ]),
      ["memory: RSS idle (MB)", String(results.memory.idleRssMb)],
      [`memory: RSS with ${results.memory.agentsConnected} agents connected (MB)`, String(results.memory.rssWith1000AgentsMb)],
    );
  }
  const t = results.tracking;
  if (t) {
    rows.push(
      ["tracking: sessions leased / s (new visits)", fmt(t.sessions.rps)],
      ["  lease latency p50 / p99 (ms), non-2xx", `${t.sessions.p50} / ${t.sessions.p99}, ${t.sessions.non2xx}`],
      [`attribution report, ${t.generated.callsIn30Days} calls in 30 days of ${t.generated.calls}: by keyword median / max (ms)`, `${t.reportByKeyword.medianMs} / ${t.reportByKeyword.maxMs}`],
      ["  by source median / max (ms)", `${t.reportBySource.medianMs} / ${t.reportBySource.maxMs}`],
      ["pool report median / max (ms)", `${t.poolReport.medianMs} / ${t.poolReport.maxMs}`],
    );
  }
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(`\nbench (${results.machine.cpus} cpus, ${results.machine.node}, ${SECONDS}s per ack load after ${WARMUP_SECONDS}s unmeasured, ${CONNECTIONS} connections)`);
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
  fs.writeFileSync(path.join(__dirname, "results.json"), JSON.stringify(results, null, 2));
  console.log("\nwritten: bench/results.json");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
