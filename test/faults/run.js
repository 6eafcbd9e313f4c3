#!/usr/bin/env node
// `npm run test:faults`: the service in production mode (one web process, two workers) on this
// machine's PostgreSQL and Redis, under load from a simulated provider that retries like Twilio
// (on 5xx and connection errors). Meanwhile Redis is SIGKILLed and restarted, PostgreSQL crashes
// and restarts, a worker is SIGKILLed mid-job, and deliveries are duplicated and reordered. After
// recovery a ledger of accepted deliveries must match the database exactly: every accepted
// delivery applied once, one contact, call and call-back task per caller, nothing failed.
// Loopback only, bounded in time. It restarts the machine's services: run it on its own
// (.ci/run runs it after the test passes).
const { execFileSync, execSync, spawn } = require("node:child_process");
const net = require("node:net");
const path = require("node:path");
const { randomBytes } = require("node:crypto");
const { Client } = require("pg");
const twilio = require("twilio");
const { dropQueueKeys } = require("../../scripts/drop-queue-keys");

const root = path.resolve(__dirname, "../..");
const PG = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";
const REDIS = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const TOKEN = "faults-twilio-token";
const CALLS = Number(process.env.FAULT_CALLS || 240);
const DEADLINE_MS = 240_000;
/** Each of 8 senders pauses this long between deliveries: ~90 deliveries/s, ~20 s of load. */
const PACE_MS = 80;

const log = (msg) => process.stderr.write(`[faults] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const failures = [];
const check = (ok, what) => {
  log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
};

function dbUrl(name) {
  const u = new URL(PG);
  u.pathname = `/${name}`;
  return u.toString();
}

async function sql(url, text, params) {
  for (let attempt = 0; ; attempt++) {
    const c = new Client({ connectionString: url });
    try {
      await c.connect();
      return (await c.query(text, params)).rows;
    } catch (err) {
      if (attempt >= 60) throw err;
      await sleep(500); // PostgreSQL may be restarting
    } finally {
      await c.end().catch(() => undefined);
    }
  }
}

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function waitReady(url) {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  throw new Error(`${url} did not become ready`);
}

// --- the machine's services ---------------------------------------------------------------
const pgCluster = () => execSync("ls /etc/postgresql").toString().trim().split("\n")[0];
function redisPid() {
  const info = execSync("redis-cli -h 127.0.0.1 -p 6379 info server").toString();
  return Number(/process_id:(\d+)/.exec(info)[1]);
}
function startRedis() {
  execSync(`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`);
}
async function waitRedis() {
  for (let i = 0; i < 100; i++) {
    try {
      execSync("redis-cli -h 127.0.0.1 -p 6379 ping", { stdio: "ignore" });
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error("redis did not come back");
}

/** A command run without blocking this process's event loop. */
function run(cmd, args) {
  return new Promise((resolve, reject) => {
    spawn(cmd, args, { stdio: "ignore" }).on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))));
  });
}

// --- the simulated provider ---------------------------------------------------------------
/** The deliveries of one missed inbound call (nobody answers), as Twilio would send them. */
function missedCall(i) {
  const callSid = `CA${randomBytes(16).toString("hex")}`;
  const legSid = `CA${randomBytes(16).toString("hex")}`;
  const from = `+1628${String(5550000 + i).padStart(7, "0")}`;
  const base = { AccountSid: `AC${"f".repeat(32)}`, ApiVersion: "2010-04-01", CallSid: callSid, From: from, To: "+15005550100", Caller: from, Called: "+15005550100", Direction: "inbound" };
  const leg = (status, seq) => ({
    path: "/webhooks/twilio/status",
    params: { ...base, CallSid: legSid, To: "client:nobody", Direction: "outbound-dial", ParentCallSid: callSid, CallStatus: status, SequenceNumber: String(seq), CallbackSource: "call-progress-events" },
  });
  return {
    from,
    deliveries: [
      { path: "/webhooks/twilio/voice", params: { ...base, CallStatus: "ringing" } },
      leg("initiated", 0),
      leg("ringing", 1),
      leg("no-answer", 2),
      { path: "/webhooks/twilio/dial?stage=all", params: { ...base, CallStatus: "in-progress", DialCallStatus: "no-answer", DialCallSid: legSid, DialBridged: "false" } },
      { path: "/webhooks/twilio/status", params: { ...base, CallStatus: "completed", CallDuration: "30", CallbackSource: "call-progress-events" } },
    ],
  };
}

/** Sends one delivery until it is accepted (2xx), retrying on 5xx and connection errors like Twilio. */
async function deliver(base, d, stats) {
  const url = `${base}${d.path}`;
  const signature = twilio.getExpectedTwilioSignature(TOKEN, url, d.params);
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature }, body: new URLSearchParams(d.params), signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      if (res.status < 300) return true;
      if (process.env.FAULT_DEBUG) log(`${d.path}: ${res.status}`);
      if (res.status < 500) {
        stats.refused++;
        return false;
      }
      stats.retried5xx++;
    } catch {
      stats.retriedConn++;
    }
    if (attempt > 200) throw new Error(`gave up on ${d.path}`);
    await sleep(Math.min(100 * 2 ** Math.min(attempt, 5), 2000));
  }
}

async function main() {
  execFileSync(process.execPath, [path.join(root, "scripts/build-if-stale.js")], { stdio: "inherit" });
  const name = `crm_faults_${Date.now().toString(36)}`;
  await sql(PG, `CREATE DATABASE ${name}`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    DATABASE_URL: dbUrl(name),
    REDIS_URL: REDIS,
    JWT_SECRET: "faults-secret-faults-secret-faults-secret-1",
    TWILIO_AUTH_TOKEN: TOKEN,
    PUBLIC_URL: base,
    QUEUE_PREFIX: name,
    LOG_LEVEL: "error",
    WORKER_CONCURRENCY: "8",
  };
  const children = new Set();
  const start = (script, extra = {}) => {
    const child = spawn(process.execPath, [path.join(root, "dist/src", script)], { env: { ...env, ...extra }, stdio: ["ignore", "ignore", "inherit"] });
    children.add(child);
    child.on("exit", () => children.delete(child));
    return child;
  };
  const deadline = setTimeout(() => {
    log("deadline passed");
    for (const c of children) c.kill("SIGKILL");
    process.exit(1);
  }, DEADLINE_MS);

  try {
    start("main.js", { PORT: String(port), SERVICE_ROLE: "web" });
    await waitReady(base);
    const workers = [start("worker.js", { PORT: String(await freePort()) }), start("worker.js", { PORT: String(await freePort()) })];

    // Every delivery of every call, one in five sent twice, all shuffled (reordered).
    const calls = Array.from({ length: CALLS }, (_, i) => missedCall(i));
    const deliveries = calls.flatMap((c) => c.deliveries.flatMap((d) => (Math.random() < 0.2 ? [d, d] : [d])));
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j], deliveries[i]];
    }
    log(`${CALLS} calls, ${deliveries.length} deliveries (duplicated and reordered)`);

    const stats = { refused: 0, retried5xx: 0, retriedConn: 0, accepted: 0 };
    let next = 0;
    const sender = async () => {
      while (next < deliveries.length) {
        const d = deliveries[next++];
        if (await deliver(base, d, stats)) stats.accepted++;
        await sleep(PACE_MS); // a steady stream that lasts through every fault
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, sender));

    await sleep(3000);
    log("fault: Redis SIGKILL");
    process.kill(redisPid(), "SIGKILL");
    await sleep(2000);
    startRedis();
    await waitRedis();
    log("Redis back");

    await sleep(3000);
    log("fault: PostgreSQL crash");
    const [{ t: pgStartedBefore }] = await sql(PG, `SELECT pg_postmaster_start_time()::text AS t`);
    // An immediate stop is a crash: connections cut, no shutdown checkpoint, WAL not yet flushed
    // lost (the ingest's asynchronous commits, decision 0013), crash recovery at start.
    // Run without blocking: the senders in this process keep sending through the restart.
    await run("pg_ctlcluster", ["--skip-systemctl-redirect", pgCluster(), "main", "restart", "-m", "immediate"]);
    const [{ t: pgStartedAfter }] = await sql(PG, `SELECT pg_postmaster_start_time()::text AS t`);
    check(pgStartedAfter !== pgStartedBefore, "PostgreSQL really restarted");

    await sleep(3000);
    log("fault: a worker SIGKILLed mid-job");
    workers[0].kill("SIGKILL");
    start("worker.js", { PORT: String(await freePort()) });

    const sentBeforeEnd = next;
    await load;
    log(`load done: ${JSON.stringify(stats)}`);
    check(sentBeforeEnd < deliveries.length, `the load was still running when the last fault hit (${sentBeforeEnd}/${deliveries.length} sent)`);

    // Recovery: the sweeper re-enqueues whatever the lost Redis and the killed worker dropped.
    const until = Date.now() + 120_000;
    let left = -1;
    while (Date.now() < until) {
      [{ n: left }] = await sql(dbUrl(name), `SELECT count(*)::int AS n FROM inbox WHERE status IN ('pending', 'deferred')`);
      if (left === 0) break;
      await sleep(500);
    }

    const [counts] = await sql(
      dbUrl(name),
      `SELECT (SELECT count(*) FROM inbox)::int AS inbox, (SELECT count(*) FROM inbox WHERE status = 'done')::int AS done,
         (SELECT count(*) FROM inbox WHERE status = 'failed')::int AS failed,
         (SELECT count(*) FROM calls)::int AS calls, (SELECT count(*) FROM calls WHERE outcome = 'missed')::int AS missed,
         (SELECT count(*) FROM contacts)::int AS contacts, (SELECT count(*) FROM tasks)::int AS tasks,
         (SELECT count(*) FROM tasks WHERE attempts <> 1 OR cardinality(missed_call_ids) <> 1)::int AS bumped_tasks,
         (SELECT count(*) FROM deals)::int AS deals, (SELECT count(*) FROM call_legs)::int AS legs`,
    );
    log(`database: ${JSON.stringify(counts)}`);
    const distinctDeliveries = new Set(deliveries.map((d) => `${d.path}|${d.params.CallSid}|${d.params.CallStatus}|${d.params.SequenceNumber ?? ""}`)).size;
    check(stats.refused === 0, "no delivery was refused (all were signed and valid)");
    check(stats.accepted === deliveries.length, `every delivery was accepted in the end (${stats.accepted}/${deliveries.length})`);
    check(stats.retried5xx + stats.retriedConn > 0, `the faults were felt: ${stats.retried5xx} retryable 5xx, ${stats.retriedConn} connection errors`);
    check(left === 0, "the inbox drained after recovery");
    check(counts.failed === 0, "no delivery failed to apply");
    check(counts.inbox === distinctDeliveries, `one inbox row per distinct delivery (${counts.inbox} for ${distinctDeliveries}): duplicates changed nothing`);
    check(counts.done === counts.inbox, "every accepted delivery was applied");
    check(counts.calls === CALLS && counts.missed === CALLS, `one call per call, each missed (${counts.calls}, ${counts.missed})`);
    check(counts.contacts === CALLS && counts.deals === CALLS, `one contact and one deal per caller (${counts.contacts}, ${counts.deals})`);
    check(counts.tasks === CALLS && counts.bumped_tasks === 0, `one call-back task per missed call, none counted twice (${counts.tasks})`);
    check(counts.legs === CALLS, `one leg per call (${counts.legs})`);
  } finally {
    clearTimeout(deadline);
    for (const c of children) c.kill("SIGTERM");
    await sleep(1000);
    for (const c of children) c.kill("SIGKILL");
    await sql(PG, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await dropQueueKeys(REDIS, name);
  }
  if (failures.length > 0) {
    log(`${failures.length} check(s) failed`);
    process.exit(1);
  }
  log("all checks passed");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
