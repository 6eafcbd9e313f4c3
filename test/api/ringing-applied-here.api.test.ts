import { startTestService, type TestService } from "../support/test-service";
import { newCall, parentStatus, postSigned, voice } from "../support/twilio";
import { waitFor } from "../support/wait-for";

let svc: TestService;
let enqueued: jest.SpyInstance;
beforeAll(async () => {
  svc = await startTestService({ role: "all" });
  // Records what goes to the queue, and still sends it there.
  enqueued = jest.spyOn(svc.container.queue, "enqueueMany");
});
afterAll(async () => svc?.close());

const inboxRow = async (key: string) =>
  (await svc.container.ds.query(`SELECT id, status FROM inbox WHERE delivery_key = $1`, [key]))[0] as { id: string; status: string } | undefined;
const queuedIds = () => enqueued.mock.calls.flatMap(([name, jobs]) => (name === "inbox.apply" ? (jobs as Array<{ payload: { inboxId: string } }>).map((j) => j.payload.inboxId) : []));
const applied = (key: string) => waitFor(async () => ((await inboxRow(key))?.status === "done" ? inboxRow(key) : undefined), { what: `${key} applied` });

describe("ringing calls applied by the process that received them (decision 0012)", () => {
  it("a ringing call is applied without a queue job; its status callback still goes through the queue", async () => {
    const call = newCall("+14155550961");
    await postSigned(svc, voice(call)).expect(200);
    const ringing = await applied(`twilio:voice:${call.callSid}`);
    expect(await svc.container.ds.query(`SELECT status FROM calls WHERE provider_call_id = $1`, [call.callSid])).toEqual([{ status: "ringing" }]);
    expect(queuedIds()).not.toContain(ringing.id);

    await postSigned(svc, parentStatus(call, "completed", { CallDuration: "0" })).expect(204);
    const completed = await applied(`twilio:status:${call.callSid}:-:completed`);
    expect(queuedIds()).toContain(completed.id);
    const metrics = (await svc.http.get("/metrics").expect(200)).text;
    expect(metrics).toMatch(/^ringing_applied_here_total\{result="applied"\} 1$/m);
  });

  it("a ringing call the process cannot take now, or fails to apply, goes to the queue and is applied from there", async () => {
    const busy = newCall("+14155550962");
    svc.container.intake.applyRingingHere(() => undefined);
    await postSigned(svc, voice(busy)).expect(200);
    const fromBusy = await applied(`twilio:voice:${busy.callSid}`);
    expect(queuedIds()).toContain(fromBusy.id);

    const failing = newCall("+14155550963");
    svc.container.intake.applyRingingHere(() => Promise.reject(new Error("applying here failed")));
    await postSigned(svc, voice(failing)).expect(200);
    const fromFailure = await applied(`twilio:voice:${failing.callSid}`);
    expect(queuedIds()).toContain(fromFailure.id);
    expect(await svc.container.ds.query(`SELECT count(*)::int AS n FROM calls WHERE provider_call_id = ANY($1)`, [[busy.callSid, failing.callSid]])).toEqual([{ n: 2 }]);
  });
});
