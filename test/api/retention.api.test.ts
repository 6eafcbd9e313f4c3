import { purgeInChunks } from "../../src/platform/db/purge";
import { purgeDispatched } from "../../src/platform/outbox";
import { purgeExpired } from "../../src/retention";
import { startTestService, type TestService } from "../support/test-service";
import { answeredCallbacks, drainInbox, newCall, postSigned, voice, type CallScript } from "../support/twilio";
import { waitFor } from "../support/wait-for";

let svc: TestService;
// The service's own purge (its job, every ten minutes) keeps ten years, so that it can never
// race the purges these tests run with the default retention (`purge`, below).
const TEN_YEARS = 3650;
beforeAll(async () => {
  svc = await startTestService({
    env: { DELIVERY_RETENTION_DAYS: String(TEN_YEARS), PUSH_RETENTION_DAYS: String(TEN_YEARS), TRACKING_SESSION_RETENTION_DAYS: String(TEN_YEARS) },
  });
});
afterAll(async () => svc?.close());

/** A purge run with the default retention: 30 days for deliveries, 7 for pushes, 90 for website sessions. */
const purge = async () => {
  const run = await purgeExpired({ ...svc.container, config: { ...svc.container.config, retention: { deliveryDays: 30, pushDays: 7, trackingSessionDays: 90 } } });
  expect(run.failed).toEqual([]);
  return run.purged;
};

const q = <T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> => svc.container.ds.query(sql, params);
const DAYS = (n: number) => `now() - interval '${n} days'`;

/** A whole answered call, applied: its deliveries in the inbox, its pushes in the outbox. */
async function answeredCall(from: string): Promise<{ call: CallScript; callId: string }> {
  const call = newCall(from);
  await postSigned(svc, voice(call)).expect(200);
  for (const d of answeredCallbacks(call, "client:nobody")) await postSigned(svc, d);
  await drainInbox(svc);
  const [row] = await q<{ id: string }>(`SELECT id FROM calls WHERE provider_call_id = $1`, [call.callSid]);
  return { call, callId: row!.id };
}

/** The call's screen-pop for one agent, stored `daysAgo` (its card with it). */
async function storedPop(callId: string, userId: string, daysAgo: number): Promise<void> {
  await q(`INSERT INTO screen_pop_cards (call_id, payload, updated_at) VALUES ($1, '{}', ${DAYS(daysAgo)})`, [callId]);
  await q(`INSERT INTO screen_pops (call_id, user_id, status, created_at) VALUES ($1, $2, 'acked', ${DAYS(daysAgo)})`, [callId, userId]);
}

const inboxOf = (callSid: string) =>
  q<{ status: string }>(`SELECT status FROM inbox WHERE payload::text LIKE '%' || $1 || '%' ORDER BY received_at`, [callSid]).then((rows) => rows.map((r) => r.status));

describe("retention (decision 0015)", () => {
  it("purges applied deliveries, dispatched pushes and pops past their retention, and nothing else", async () => {
    const { userId } = await svc.signIn("agent");
    const old = await answeredCall("+14155550901");
    // An old push that failed, written before the young call's: kept for its status alone.
    await q(`INSERT INTO outbox (topic, payload, status) VALUES ('call.update', $1, 'failed')`, [JSON.stringify({ callId: old.callId })]);
    const young = await answeredCall("+14155550902");
    const oldDeliveries = (await inboxOf(old.call.callSid)).length;
    expect(oldDeliveries).toBeGreaterThan(3);

    // The old call's deliveries are 31 days old, one of them still failing; its pushes 8 days.
    await q(`UPDATE inbox SET received_at = ${DAYS(31)} WHERE payload::text LIKE '%' || $1 || '%'`, [old.call.callSid]);
    await q(
      `UPDATE inbox SET status = 'failed' WHERE id = (SELECT id FROM inbox WHERE payload::text LIKE '%' || $1 || '%' ORDER BY received_at DESC LIMIT 1)`,
      [old.call.callSid],
    );
    await q(`UPDATE outbox SET created_at = ${DAYS(8)} WHERE payload->>'callId' = $1`, [old.callId]);
    // The service's dispatcher may still be on the old call's last pushes: counted once all are out.
    await waitFor(async () => (await q<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE payload->>'callId' = $1 AND status = 'pending'`, [old.callId]))[0]!.n === 0, {
      what: "the old call's pushes dispatched",
    });
    const [pushes] = await q<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE payload->>'callId' = $1 AND status = 'done'`, [old.callId]);
    const oldPushes = pushes!.n;
    expect(oldPushes).toBeGreaterThan(0);
    await q(`UPDATE outbox SET status = 'done' WHERE status = 'pending' AND payload->>'callId' = $1 AND created_at > ${DAYS(1)}`, [young.callId]);
    await storedPop(old.callId, userId, 8);
    await storedPop(young.callId, userId, 6);
    const eventsBefore = await q(`SELECT inbox_id FROM call_events e JOIN calls c ON c.id = e.call_id WHERE c.id = $1`, [old.callId]);

    const purged = await purge();
    expect(purged).toEqual({ inbox: oldDeliveries - 1, webhookDeliveries: 0, outbox: oldPushes, screenPopCalls: 1, trackingSessions: 0, trackingPoolExhaustions: 0 });

    expect(await inboxOf(old.call.callSid)).toEqual(["failed"]);
    const youngDeliveries = await inboxOf(young.call.callSid);
    expect(youngDeliveries.length).toBe(oldDeliveries);
    expect(youngDeliveries.every((s) => s === "done")).toBe(true);
    expect(await q(`SELECT status FROM outbox WHERE payload->>'callId' = $1`, [old.callId])).toEqual([{ status: "failed" }]);
    expect((await q(`SELECT 1 FROM outbox WHERE payload->>'callId' = $1`, [young.callId])).length).toBeGreaterThan(0);
    expect(await q(`SELECT call_id FROM screen_pop_cards WHERE call_id = ANY($1::uuid[])`, [[old.callId, young.callId]])).toEqual([{ call_id: young.callId }]);
    expect(await q(`SELECT call_id FROM screen_pops WHERE call_id = ANY($1::uuid[])`, [[old.callId, young.callId]])).toEqual([{ call_id: young.callId }]);
    // The call and its history stay; its events still name the deliveries they came from.
    expect(await q(`SELECT inbox_id FROM call_events e JOIN calls c ON c.id = e.call_id WHERE c.id = $1`, [old.callId])).toEqual(eventsBefore);

    expect(await purge()).toEqual({ inbox: 0, webhookDeliveries: 0, outbox: 0, screenPopCalls: 0, trackingSessions: 0, trackingPoolExhaustions: 0 });
  });

  it("keeps the outbound webhooks' log for the delivery retention, and a delivery being replayed", async () => {
    const [sub] = await q<{ id: string }>(
      `INSERT INTO webhook_subscriptions (url, secret, events) VALUES ('https://hooks.example.test/a', 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0', '{call.completed}') RETURNING id`,
    );
    const delivery = (event: string, status: string, daysAgo: number) =>
      q(`INSERT INTO webhook_deliveries (subscription_id, event_type, event_id, payload, status, created_at) VALUES ($1, 'call.completed', $2, '{}', $3, ${DAYS(daysAgo)})`, [
        sub!.id,
        event,
        status,
      ]);
    await delivery("old-delivered", "delivered", 31);
    await delivery("old-failed", "failed", 40);
    await delivery("old-replayed", "pending", 35);
    await delivery("young", "delivered", 29);

    expect((await purge()).webhookDeliveries).toBe(2);
    const left = await q<{ event_id: string }>(`SELECT event_id FROM webhook_deliveries WHERE subscription_id = $1 ORDER BY event_id`, [sub!.id]);
    expect(left.map((r) => r.event_id)).toEqual(["old-replayed", "young"]);
  });

  it("purges website sessions not seen for the retention, and old pool exhaustions; calls keep their attribution", async () => {
    const admin = (await svc.signIn("admin")).token;
    await svc.http.post("/api/tracking/pools").set("authorization", `Bearer ${admin}`).send({ name: "retention", holdMinutes: 30 }).expect(201);
    await svc.http.post("/api/tracking/numbers").set("authorization", `Bearer ${admin}`).send({ number: "+15005550261", pool: "retention" }).expect(201);
    const lease = (body: Record<string, unknown>) => svc.http.post("/api/tracking/sessions").send({ pool: "retention", ...body });
    // A visit from an ad, and its call while the number was shown: attributed to the session.
    const visit = (await lease({ landingPage: "https://shop.example.com/?utm_source=google&utm_campaign=spring" }).expect(200)).body;
    const call = newCall("+14155550960", visit.number);
    await postSigned(svc, voice(call)).expect(200);
    await drainInbox(svc);
    const attribution = async () =>
      (await q(`SELECT a.source, a.campaign, a.session_id FROM call_attributions a JOIN calls c ON c.id = a.call_id WHERE c.provider_call_id = $1`, [call.callSid]))[0];
    expect(await attribution()).toEqual({ source: "google", campaign: "spring", session_id: visit.sessionId });
    // Two more visits: one long ago but back last week, one young.
    const returning = (await lease({ landingPage: "https://shop.example.com/" }).expect(200)).body.sessionId;
    const young = (await lease({ landingPage: "https://shop.example.com/" }).expect(200)).body.sessionId;
    await q(`UPDATE tracking_numbers SET leased_until = ${DAYS(91)} WHERE leased_session_id = $1`, [visit.sessionId]);
    await q(`UPDATE tracking_sessions SET created_at = ${DAYS(120)}, last_seen_at = ${DAYS(91)}, lease_expires_at = ${DAYS(91)} WHERE id = $1`, [visit.sessionId]);
    await q(`UPDATE tracking_sessions SET created_at = ${DAYS(200)}, last_seen_at = ${DAYS(7)}, lease_expires_at = ${DAYS(7)} WHERE id = $1`, [returning]);
    const [pool] = await q<{ id: string }>(`SELECT id FROM tracking_pools WHERE name = 'retention'`);
    await q(`INSERT INTO tracking_pool_exhaustions (pool_id, session_id, occurred_at) VALUES ($1, $2, ${DAYS(91)}), ($1, $3, ${DAYS(89)})`, [pool!.id, visit.sessionId, young]);

    expect(await purge()).toMatchObject({ trackingSessions: 1, trackingPoolExhaustions: 1 });
    const left = await q<{ id: string }>(`SELECT id FROM tracking_sessions WHERE pool_id = $1 ORDER BY created_at`, [pool!.id]);
    expect(left.map((r) => r.id)).toEqual([returning, young]);
    // (The visits of this test exhausted the one-number pool too: those are young, and stay.)
    expect(await q(`SELECT session_id FROM tracking_pool_exhaustions WHERE pool_id = $1 AND occurred_at < ${DAYS(1)}`, [pool!.id])).toEqual([{ session_id: young }]);
    // The call's attribution keeps what the session knew, and still names it.
    expect(await attribution()).toEqual({ source: "google", campaign: "spring", session_id: visit.sessionId });
    expect(await q(`SELECT leased_session_id FROM tracking_numbers WHERE number = '+15005550261'`)).not.toContainEqual({ leased_session_id: visit.sessionId });
    // The visitor back with the purged session's id is told it is unknown (tracking.js starts a new one).
    await lease({ sessionId: visit.sessionId, landingPage: "https://shop.example.com/" }).expect(404);
    expect((await purge()).trackingSessions).toBe(0);
  });

  // Outbox rows are written in time order: ids and ages go together (the purge relies on it).
  // One old row in three failed: read past, kept.
  const oldPushes = async (n: number, daysAgo = 10) => {
    await q(`DELETE FROM outbox`);
    await q(
      `INSERT INTO outbox (topic, payload, status, created_at)
       SELECT 'call.update', '{}', CASE WHEN i % 3 = 0 THEN 'failed' ELSE 'done' END, ${DAYS(daysAgo)} FROM generate_series(1, ${n}) AS i`,
    );
    await q(`INSERT INTO outbox (topic, payload, status) VALUES ('call.update', '{}', 'done')`);
  };

  it("deletes a backlog in chunks, each its own statement, until it reaches rows young enough to stay", async () => {
    await oldPushes(36);
    const chunks: number[] = [];
    const dispatched = purgeDispatched(svc.container.ds);
    const deleted = await purgeInChunks(
      async (before, limit) => {
        const step = await dispatched(before, limit);
        chunks.push(step.deleted);
        return step;
      },
      new Date(Date.now() - 7 * 24 * 3600_000),
      { chunk: 10, ms: 60_000 },
    );
    // Statements of ten rows read, 7, 7, 6 and 4 of them dispatched (the rest failed); the
    // fourth reaches the young row.
    expect(deleted).toBe(24);
    expect(chunks).toEqual([7, 7, 6, 4]);
    expect(await q(`SELECT status, count(*)::int AS n FROM outbox GROUP BY status ORDER BY status`)).toEqual([
      { status: "done", n: 1 },
      { status: "failed", n: 12 },
    ]);
  });

  it("runs as the maintenance.purge job, with the configured retention", async () => {
    await oldPushes(2, TEN_YEARS + 1);
    await svc.container.queue.enqueue("maintenance.purge", {});
    // Counted once the run is over (rows go only once, whichever run takes them).
    const counted = () => svc.container.metrics.registry.getSingleMetricAsString("retention_purged_rows_total");
    await waitFor(async () => (await counted()).includes('retention_purged_rows_total{table="outbox"} 2') || undefined, { what: "the old pushes purged and counted" });
    expect(await q(`SELECT status FROM outbox`)).toEqual([{ status: "done" }]);
  });
});
