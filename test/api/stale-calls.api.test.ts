import { finalizeStaleRingingCalls } from "../../src/telephony";
import { startTestService, type TestService } from "../support/test-service";
import { drainInbox, newCall, postSigned, voice } from "../support/twilio";

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ role: "web" });
});
afterAll(async () => svc?.close());

describe("the stale-call sweeper", () => {
  it("finalises a call still ringing past STALE_RINGING_MINUTES as missed (timeout), with its call-back task", async () => {
    const { userId } = await svc.signIn("agent", { dialTarget: "client:stale" });
    await svc.container.ds.query(`UPDATE users SET presence = 'available' WHERE id = $1`, [userId]);
    const c = newCall("+14155550777");
    await postSigned(svc, voice(c)).expect(200);
    const fresh = newCall("+14155550778");
    await postSigned(svc, voice(fresh)).expect(200);
    await drainInbox(svc);
    await svc.container.ds.query(`UPDATE calls SET started_at = now() - interval '20 minutes' WHERE provider_call_id = $1`, [c.callSid]);

    expect(await finalizeStaleRingingCalls(svc.container.ds, svc.container.telephony.ingest, 15)).toBe(1);
    const [call] = await svc.container.ds.query(`SELECT status, outcome, missed_reason, contact_id FROM calls WHERE provider_call_id = $1`, [c.callSid]);
    expect(call).toMatchObject({ status: "completed", outcome: "missed", missed_reason: "timeout" });
    expect(await svc.container.ds.query(`SELECT type, status FROM tasks WHERE contact_id = $1`, [call.contact_id])).toEqual([{ type: "call_back", status: "open" }]);
    const [other] = await svc.container.ds.query(`SELECT status FROM calls WHERE provider_call_id = $1`, [fresh.callSid]);
    expect(other.status).toBe("ringing");
    expect(await finalizeStaleRingingCalls(svc.container.ds, svc.container.telephony.ingest, 15)).toBe(0);
  });
});
