// (tracking) sessions leased per second, and marketing report times over a generated data set
// of REPORT_CALLS calls (default 1,000,000) spread over 60 days. Used by run.js.
const { execFileSync, spawn } = require("node:child_process");
const path = require("node:path");

const REPORT_CALLS = Number(process.env.BENCH_REPORT_CALLS || 1_000_000);
const SESSION_SECONDS = Number(process.env.BENCH_SESSION_SECONDS || 5);
const POOL_SIZE = 2000;
const BENCH_SECRET = "bench-secret-bench-secret-bench-secret-1234";

/**
 * Calls, contacts, attributions and deals shaped like a busy account: 8 sources, 40 campaigns,
 * 500 keywords. `analyze: false` leaves the vacuum and statistics to the caller (history.js adds rows).
 */
async function generate(sql, url, calls, { analyze = true } = {}) {
  const contacts = Math.max(1000, Math.floor(calls / 10));
  await sql(url, `INSERT INTO contacts (name) SELECT 'Caller ' || i FROM generate_series(1, $1) AS i`, [contacts]);
  await sql(
    url,
    `INSERT INTO calls (provider, provider_call_id, direction, from_raw, to_raw, from_e164, to_e164, contact_id, status, outcome, is_first_time_caller, started_at)
     SELECT 'twilio', 'CA' || i, 'inbound', '+1415' || lpad((i % $2)::text, 7, '0'), '+15005550100', '+1415' || lpad((i % $2)::text, 7, '0'), '+15005550100',
       c.id, 'completed', CASE WHEN i % 3 = 0 THEN 'missed' ELSE 'answered' END, i <= $2, now() - (i::float8 / $1 * 29 * 86400) * interval '1 second'
     FROM generate_series(1, $1) AS i
     JOIN (SELECT id, row_number() OVER () - 1 AS k FROM contacts) c ON c.k = i % $2`,
    [calls, contacts],
  );
  await sql(
    url,
    `INSERT INTO call_attributions (call_id, method, confidence, source, medium, campaign, keyword)
     SELECT id, 'session', 1, (ARRAY['google','bing','facebook','newsletter','billboard','radio','tiktok','referral'])[1 + n % 8], 'cpc',
       'campaign-' || (n % 40), 'keyword-' || (n % 500)
     FROM (SELECT id, row_number() OVER () AS n FROM calls) x WHERE n % 5 <> 0`,
  );
  const [stage] = await sql(url, `SELECT s.id, s.pipeline_id FROM pipeline_stages s JOIN pipelines p ON p.id = s.pipeline_id WHERE p.is_default ORDER BY s.position LIMIT 1`);
  await sql(
    url,
    `INSERT INTO deals (contact_id, pipeline_id, stage_id, title, status, amount, source_call_id, created_at)
     SELECT contact_id, $1, $2, 'deal', CASE WHEN n % 3 = 0 THEN 'won' ELSE 'open' END, 100 + n % 900, id, started_at
     FROM (SELECT id, contact_id, started_at, row_number() OVER () AS n FROM calls) x WHERE n % 20 = 1`,
    [stage.pipeline_id, stage.id],
  );
  // Loaded behind the ingest's back: derive the report columns as the ingest keeps them.
  execFileSync(process.execPath, [path.join(__dirname, "..", "dist/src/cli.js"), "reports:rebuild"], {
    env: { ...process.env, DATABASE_URL: url, JWT_SECRET: BENCH_SECRET, LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  // As autovacuum leaves an account in use: statistics, and pages marked all-visible (what an
  // index-only scan needs).
  if (analyze) await sql(url, `VACUUM (ANALYZE)`);
}

async function timeRequest(url, token, times = 5) {
  const ms = [];
  for (let i = 0; i < times + 1; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    if (i > 0) ms.push(performance.now() - t0); // the first run warms caches
  }
  ms.sort((a, b) => a - b);
  return { medianMs: Math.round(ms[Math.floor(ms.length / 2)]), maxMs: Math.round(ms[ms.length - 1]) };
}

async function trackingBench(results, h) {
  const dbName = `crm_bench_trk_${Date.now().toString(36)}`;
  await h.sql(h.PG, `CREATE DATABASE ${dbName}`);
  const url = h.dbUrl(dbName);
  const children = [];
  try {
    execFileSync(process.execPath, [path.join(h.root, "dist/src/migrate.js")], { env: { ...process.env, DATABASE_URL: url, JWT_SECRET: BENCH_SECRET, LOG_LEVEL: "warn" }, stdio: ["ignore", "ignore", "inherit"] });
    h.step(`tracking: generating ${REPORT_CALLS} calls`);
    const t0 = Date.now();
    await generate(h.sql, url, REPORT_CALLS);
    const generatedSec = (Date.now() - t0) / 1000;
    await h.sql(url, `INSERT INTO tracking_pools (name) VALUES ('web')`);
    await h.sql(url, `INSERT INTO tracking_numbers (number, pool_id) SELECT '+1500' || lpad(i::text, 7, '0'), (SELECT id FROM tracking_pools) FROM generate_series(1, $1) AS i`, [POOL_SIZE]);

    const port = await h.freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    const secret = BENCH_SECRET;
    const svc = spawn(process.execPath, [...h.WEB_NODE_FLAGS, path.join(h.root, "dist/src/main.js")], {
      env: { ...process.env, PORT: String(port), PUBLIC_URL: publicUrl, DATABASE_URL: url, REDIS_URL: h.REDIS, JWT_SECRET: secret, LOG_LEVEL: "warn", QUEUE_PREFIX: dbName, TRACKING_SESSIONS_PER_MINUTE: "10000000" },
      stdio: ["ignore", "ignore", "inherit"],
    });
    children.push(svc);
    await h.waitHttp(`${publicUrl}/readyz`);

    h.step("tracking: sessions leased per second");
    const out = execFileSync(process.execPath, [path.join(__dirname, "session-load.js"), publicUrl, "web", String(SESSION_SECONDS), "10"], { maxBuffer: 1 << 20 });
    const sessions = JSON.parse(out.toString());
    const [leased] = await h.sql(url, `SELECT count(*) FILTER (WHERE NOT is_overflow AND NOT is_shared)::int AS leased, count(*)::int AS total FROM tracking_sessions`);

    const { SignJWT } = require("jose");
    const [marketer] = await h.sql(url, `INSERT INTO users (email, name, role, password_hash) VALUES ('m@bench.test', 'M', 'marketer', 'x') RETURNING id`);
    const token = await new SignJWT({ role: "marketer" }).setProtectedHeader({ alg: "HS256" }).setSubject(marketer.id).setIssuer("callcenter-crm").setAudience("callcenter-crm:agents").setExpirationTime("1h").sign(new TextEncoder().encode(secret));
    const to = new Date();
    const from = new Date(to.getTime() - 30 * 86400_000);
    const report = (groupBy) => `${publicUrl}/api/reports/attribution?from=${from.toISOString()}&to=${to.toISOString()}&groupBy=${groupBy}`;
    h.step("tracking: attribution report, 30 days");
    const [inRange] = await h.sql(url, `SELECT count(*)::int AS n FROM calls WHERE started_at >= $1 AND started_at < $2`, [from, to]);
    results.tracking = {
      generated: { calls: REPORT_CALLS, seconds: generatedSec, callsIn30Days: inRange.n },
      sessions: { ...sessions, poolSize: POOL_SIZE, leased: leased.leased, total: leased.total },
      reportByKeyword: await timeRequest(report("keyword"), token),
      reportBySource: await timeRequest(report("source"), token),
      poolReport: await timeRequest(`${publicUrl}/api/reports/pools?from=${from.toISOString()}&to=${to.toISOString()}`, token),
    };
  } finally {
    for (const c of children) await h.stop(c);
    // BENCH_KEEP_DB=1 keeps the generated calls (crm_bench_trk_…) to inspect the reports' plans.
    if (!process.env.BENCH_KEEP_DB) await h.sql(h.PG, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await h.dropQueueKeys(dbName);
  }
}

module.exports = { trackingBench, generate };
