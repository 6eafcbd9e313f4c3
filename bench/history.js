// An account's history for the pops runs (BENCH_POP_HISTORY calls, default 100,000): the calls,
// contacts and deals of tracking.js's data set, plus what the ingest and the pops leave behind
// (callers' numbers, call-back tasks, settled inbox and outbox rows, acknowledged pops and their
// cards), vacuumed and analyzed. On empty tables instead, every prepared statement kept the plan
// it got while they were empty (sequential scans of the outbox, of the callers' numbers) as they
// grew by thousands of rows during the run, and PostgreSQL's CPU per call grew with them.
const { generate } = require("./tracking");

async function generateHistory(sql, url, calls) {
  await generate(sql, url, calls, { analyze: false });
  // tracking.js gives contact k the calls from +1415 and k on 7 digits.
  await sql(
    url,
    `INSERT INTO contact_phones (contact_id, e164, raw)
     SELECT id, '+1415' || lpad(k::text, 7, '0'), '+1415' || lpad(k::text, 7, '0') FROM (SELECT id, row_number() OVER () - 1 AS k FROM contacts) c`,
  );
  const [agent] = await sql(url, `SELECT id FROM users WHERE role = 'agent' ORDER BY created_at LIMIT 1`);
  // A call-back task per missed call, done; a few hundred contacts still to call back.
  await sql(
    url,
    `INSERT INTO tasks (type, status, title, contact_id, call_id, assignee_id, due_at, completed_at, created_at)
     SELECT 'call_back', CASE WHEN n % 200 = 0 THEN 'open' ELSE 'done' END, 'Call back', contact_id, id, $1, started_at + interval '1 hour',
       CASE WHEN n % 200 = 0 THEN NULL ELSE started_at + interval '30 minutes' END, started_at
     FROM (SELECT DISTINCT ON (contact_id) id, contact_id, started_at, row_number() OVER () AS n FROM calls WHERE outcome = 'missed' ORDER BY contact_id, started_at DESC) m`,
    [agent.id],
  );
  // Two settled deliveries and two pushes per call, three acknowledged pops and a card.
  await sql(
    url,
    `INSERT INTO inbox (source, delivery_key, payload, status, attempts, received_at, available_at, processed_at)
     SELECT 'twilio.status', 'history:' || c.id || ':' || s, '{}', 'done', 1, c.started_at, c.started_at, c.started_at
     FROM calls c CROSS JOIN generate_series(1, 2) AS s`,
  );
  await sql(
    url,
    `INSERT INTO outbox (topic, payload, status, attempts, available_at, created_at, processed_at)
     SELECT t, jsonb_build_object('callId', c.id), 'done', 1, c.started_at, c.started_at, c.started_at
     FROM calls c CROSS JOIN unnest(ARRAY['screen-pop', 'call.update']) AS t`,
  );
  await sql(url, `INSERT INTO screen_pop_cards (call_id, payload, updated_at) SELECT id, '{}', started_at FROM calls`);
  await sql(
    url,
    `INSERT INTO screen_pops (call_id, user_id, status, created_at, sent_at, acked_at)
     SELECT c.id, u.id, 'acked', c.started_at, c.started_at, c.started_at
     FROM calls c CROSS JOIN (SELECT id FROM users WHERE role = 'agent' ORDER BY created_at LIMIT 3) u`,
  );
  // Vacuumed, analyzed and flushed now, so that autovacuum and the checkpointer do not go through
  // these rows while the calls are measured.
  await sql(url, `VACUUM (ANALYZE)`);
  await sql(url, `CHECKPOINT`).catch(() => undefined); // a superuser's (or pg_checkpoint's) right: best effort
}

module.exports = { generateHistory };
