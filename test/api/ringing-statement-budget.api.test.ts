import { Client } from "pg";
import { as } from "../support/http";
import { startTestService, type TestService } from "../support/test-service";
import { newCall, postSigned, voice } from "../support/twilio";
import { waitFor } from "../support/wait-for";

/**
 * The statements between a new caller's voice webhook and their stored pops: what the pop's
 * latency and the ingest's CPU are made of (docs/performance.md). The bench's timings scatter
 * with the machine; this count does not, so a round trip added to the path shows here. A change
 * that needs one updates the list on purpose.
 */
const RINGING_PATH = [
  "hot_users.available_agents", // routing: who rings
  "hot_inbox_insert_batch", // the delivery, durable before Twilio gets its TwiML
  "START TRANSACTION",
  "hot_inbox.lock",
  "hot_calls.upsert",
  "hot_callers.contact_and_deal+attribution.number_and_report", // the attribution's read rides with the contact's
  // The delivery's appends and its "done" mark, with the call's save (calls.save_new, DeferredWrites.later): its name cut to 63 bytes.
  "hot_inbox.done+audit_log+call_events+outbox+own_n~210aa41504a6",
  "COMMIT",
  "hot_outbox.claim-ringing+cards+screen_pops.save", // the pops: rows claimed, cards built, pops stored
];

/** The test's own polling, told apart from the service's statements. */
const OWN = "/* statement-budget test */";

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ role: "all" });
});
afterAll(async () => svc?.close());

/** Every statement any pool connection sends while `work` runs: its prepared name, or its text. */
async function statementsDuring(work: () => Promise<void>): Promise<string[]> {
  const sent: string[] = [];
  const original = Client.prototype.query as (...args: unknown[]) => unknown;
  const spy = jest.spyOn(Client.prototype, "query").mockImplementation(function (this: Client, ...args: unknown[]) {
    const first = args[0] as string | { name?: string; text?: string };
    const text = typeof first === "string" ? first : (first.name ?? first.text ?? "");
    if (!text.startsWith(OWN)) sent.push(text.replace(/\s+/g, " ").trim());
    return original.apply(this, args) as never;
  });
  try {
    await work();
  } finally {
    spy.mockRestore();
  }
  return sent;
}

let calls = 0;

/** Posts a new caller's voice webhook and waits until their pop is stored. */
async function ringNewCaller(to?: string): Promise<void> {
  const call = newCall(`+141555509${String(70 + calls++)}`, to);
  await postSigned(svc, voice(call)).expect(200);
  await waitFor(
    async () => (await svc.container.ds.query(`${OWN} SELECT count(*)::int AS n FROM screen_pops p JOIN calls c ON c.id = p.call_id WHERE c.provider_call_id = $1`, [call.callSid]))[0].n > 0,
    { what: "the pop stored" },
  );
}

/**
 * The periodic sweep may run a statement or two inside the window (every few seconds; this
 * window lasts milliseconds), and those can look like the path's own (a START TRANSACTION, a
 * COMMIT): a measurement that differs is taken again with a new call. A real change to the path
 * differs every time.
 */
async function ringingPathOfNewCaller(expected: string[], to?: string): Promise<string[]> {
  let last: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    last = (await statementsDuring(() => ringNewCaller(to))).map(shortened);
    if (last.length === expected.length && last.every((s, i) => s === expected[i])) return last;
  }
  return last;
}

/** An unprepared statement by its first words. */
const shortened = (statement: string) => (statement.startsWith("hot_") ? statement : statement.split(" ").slice(0, 4).join(" "));

describe("the ringing path's statements", () => {
  it("a new caller's call reaches its stored pops in nine statements, one transaction", async () => {
    const { userId } = await svc.signIn("agent", { dialTarget: "client:budget" });
    await svc.container.ds.query(`UPDATE users SET presence = CASE WHEN id = $1 THEN 'available' ELSE 'offline' END`, [userId]);
    // A process's first call also fills its caches (the default pipeline, the outbound webhooks' subscriptions).
    await ringNewCaller();

    expect(await ringingPathOfNewCaller(RINGING_PATH)).toEqual(RINGING_PATH);
    expect(await svc.container.ds.query(`SELECT status, count(*)::int AS n FROM screen_pops WHERE user_id = $1 GROUP BY status`, [userId])).toEqual([
      { status: "sent", n: calls },
    ]);
  });

  it("a website visitor's call to their tracking number adds three: the sessions' lookup, the attribution, the contact's touch", async () => {
    const { token } = await svc.signIn("admin");
    await as(svc, token).post("/api/tracking/pools", { name: "budget" }).expect(201);
    await as(svc, token).post("/api/tracking/numbers", { number: "+15005550777", pool: "budget" }).expect(201);
    const session = await svc.http.post("/api/tracking/sessions").send({ pool: "budget", landingPage: "https://shop.example.com/?utm_source=google" }).expect(200);
    expect(session.body.number).toBe("+15005550777");

    const attributed = [
      ...RINGING_PATH.slice(0, 6),
      "SELECT s.id, s.utm_source, s.utm_medium,", // the sessions shown the number
      "INSERT INTO call_attributions (call_id,",
      "UPDATE contacts SET first_touch_attribution_id", // its own statement: the row lock before the call-back task's (decision 0010)
      // The appends, the call's save, the deal's attribution and the lease's renewal (both rows).
      "hot_inbox.done+audit_log+call_events+outbox+own_n~59f819173741",
      ...RINGING_PATH.slice(-2),
    ];
    // Nearly expired: the call renews it (with the closing statement).
    await svc.container.ds.query(`UPDATE tracking_sessions SET lease_expires_at = now() + interval '1 minute' WHERE id = $1`, [session.body.sessionId]);
    expect(await ringingPathOfNewCaller(attributed, "+15005550777")).toEqual(attributed);
    const [lease] = await svc.container.ds.query(`SELECT lease_expires_at > now() + interval '10 minutes' AS renewed FROM tracking_sessions WHERE id = $1`, [session.body.sessionId]);
    expect(lease).toEqual({ renewed: true });
  });
});
