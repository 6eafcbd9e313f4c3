import { pbxEventSchema, type PbxEvent } from "../../src/telephony/pbx/pbx-event.schema";
import { pbxToCallEvents } from "../../src/telephony/pbx/pbx.adapter";

const OCCURRED = "2025-03-04T10:15:30.250+01:00";
const OCCURRED_DATE = new Date("2025-03-04T09:15:30.250Z");

const ev = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  eventId: "evt-1",
  callId: "1741079730.42",
  type: "ringing",
  direction: "inbound",
  from: "+15551230001",
  to: "+15559870000",
  occurredAt: OCCURRED,
  ...over,
});

const parse = (input: Record<string, unknown>): PbxEvent => pbxEventSchema.parse(input);
const refusal = (input: unknown) => {
  const r = pbxEventSchema.safeParse(input);
  expect(r.success).toBe(false);
  return r.error!.issues;
};

const PARTY = { direction: "inbound", from: "+15551230001", to: "+15559870000", callerName: "ACME Ltd", trackingNumber: "+15550001111" };

describe("pbxToCallEvents", () => {
  it("when a ringing event arrives, then it becomes one call.started with the party fields and the agent it rings", () => {
    const events = pbxToCallEvents(parse(ev({ callerName: "ACME Ltd", trackingNumber: "+15550001111", agent: "alice@example.com" })));
    expect(events).toEqual([
      { type: "call.started", provider: "pbx", callId: "1741079730.42", occurredAt: OCCURRED_DATE, rawStatus: "ringing", ...PARTY, ringingAgentRefs: ["alice@example.com"] },
    ]);
  });

  it("when a ringing event names no agent, then nobody in particular is rung", () => {
    const [e] = pbxToCallEvents(parse(ev({})));
    expect(e).not.toHaveProperty("ringingAgentRefs");
  });

  it("when occurredAt has an offset, then the Date is the same instant", () => {
    const [e] = pbxToCallEvents(parse(ev({ occurredAt: "2025-03-04T09:15:30Z" })));
    expect(e!.occurredAt).toEqual(new Date(Date.UTC(2025, 2, 4, 9, 15, 30)));
    expect(e!.occurredAt).toBeInstanceOf(Date);
  });

  it("when an answered event names the agent, then it becomes call.status in-progress with the agent", () => {
    const events = pbxToCallEvents(parse(ev({ type: "answered", agent: "alice@example.com", callerName: "ACME Ltd", trackingNumber: "+15550001111" })));
    expect(events).toEqual([
      {
        type: "call.status",
        provider: "pbx",
        callId: "1741079730.42",
        occurredAt: OCCURRED_DATE,
        rawStatus: "answered",
        status: "in-progress",
        agent: "alice@example.com",
        ...PARTY,
      },
    ]);
  });

  it("when an answered event has no agent, then the event carries no agent key", () => {
    const [e] = pbxToCallEvents(parse(ev({ type: "answered" })));
    expect(e).toMatchObject({ type: "call.status", status: "in-progress" });
    expect(e).not.toHaveProperty("agent");
    expect(e).not.toHaveProperty("callerName");
  });

  it("when an ended event has no answered flag, then it becomes call.status completed with the duration only", () => {
    const events = pbxToCallEvents(parse(ev({ type: "ended", durationSec: 125 })));
    expect(events).toEqual([
      {
        type: "call.status",
        provider: "pbx",
        callId: "1741079730.42",
        occurredAt: OCCURRED_DATE,
        rawStatus: "ended",
        status: "completed",
        durationSec: 125,
        direction: "inbound",
        from: "+15551230001",
        to: "+15559870000",
      },
    ]);
  });

  it("when an ended event says answered: true, then an in-progress (with agent) comes first, then completed", () => {
    const events = pbxToCallEvents(parse(ev({ type: "ended", answered: true, agent: "201", durationSec: 60, callerName: "ACME Ltd", trackingNumber: "+15550001111" })));
    expect(events).toEqual([
      { type: "call.status", provider: "pbx", callId: "1741079730.42", occurredAt: OCCURRED_DATE, rawStatus: "ended", status: "in-progress", agent: "201", ...PARTY },
      { type: "call.status", provider: "pbx", callId: "1741079730.42", occurredAt: OCCURRED_DATE, rawStatus: "ended", status: "completed", durationSec: 60, ...PARTY },
    ]);
  });

  it("when an ended event says answered: false, then only completed is emitted", () => {
    const events = pbxToCallEvents(parse(ev({ type: "ended", answered: false, agent: "201", durationSec: 0 })));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "call.status", status: "completed", durationSec: 0 });
    expect(events[0]).not.toHaveProperty("agent");
  });

  it("when answered is sent on a non-ended event, then it is accepted and ignored", () => {
    const events = pbxToCallEvents(parse(ev({ type: "answered", answered: true })));
    expect(events).toHaveLength(1);
  });

  it("when a recording event arrives, then it becomes a completed call recording with the url as reference", () => {
    const events = pbxToCallEvents(
      parse(ev({ type: "recording", recording: { id: "rec-1741079730.42", url: "https://pbx.example.com/rec/1.wav", durationSec: 118, channels: 2 } })),
    );
    expect(events).toEqual([
      {
        type: "recording",
        provider: "pbx",
        callId: "1741079730.42",
        occurredAt: OCCURRED_DATE,
        rawStatus: "recording",
        recordingId: "rec-1741079730.42",
        status: "completed",
        kind: "call",
        durationSec: 118,
        channels: 2,
        reference: "https://pbx.example.com/rec/1.wav",
      },
    ]);
  });

  it("when a recording event has only an id, then optional fields are absent (not undefined keys)", () => {
    const [e] = pbxToCallEvents(parse(ev({ type: "recording", recording: { id: "r1" } })));
    expect(Object.keys(e!).sort()).toEqual(["callId", "kind", "occurredAt", "provider", "rawStatus", "recordingId", "status", "type"]);
  });
});

describe("pbxEventSchema", () => {
  it("when an event is complete and valid, then it parses unchanged", () => {
    const input = ev({ type: "ended", agent: "client:alice", durationSec: 86_400, callerName: "", trackingNumber: "+15550001111", answered: true });
    expect(parse(input)).toEqual(input);
  });

  it("when a top-level field is unknown, then it is refused", () => {
    const issues = refusal(ev({ status: "ringing" }));
    expect(issues[0]).toMatchObject({ code: "unrecognized_keys", keys: ["status"] });
  });

  it("when a recording has an unknown field, then it is refused", () => {
    refusal(ev({ type: "recording", recording: { id: "r1", path: "/var/spool/x.wav" } }));
  });

  it.each([
    ["not a date", "yesterday"],
    ["a date without time", "2025-03-04"],
    ["a local time without offset", "2025-03-04T10:15:30"],
    ["an impossible date", "2025-02-30T10:00:00Z"],
    ["unix seconds", 1741079730],
    ["an empty string", ""],
  ])("when occurredAt is %s, then it is refused", (_label, occurredAt) => {
    const issues = refusal(ev({ occurredAt }));
    expect(issues[0]!.path).toEqual(["occurredAt"]);
  });

  it("when type is recording without a recording object, then it is refused on recording", () => {
    const issues = refusal(ev({ type: "recording" }));
    expect(issues).toEqual([expect.objectContaining({ path: ["recording"], message: expect.stringContaining("required") })]);
  });

  it.each(["ringing", "answered", "ended"])("when type is %s with a recording object, then it is refused", (type) => {
    const issues = refusal(ev({ type, recording: { id: "r1" } }));
    expect(issues).toEqual([expect.objectContaining({ path: ["recording"], message: expect.stringContaining("only allowed") })]);
  });

  it.each([
    ["eventId", "x".repeat(201)],
    ["callId", "x".repeat(201)],
    ["from", "x".repeat(101)],
    ["to", "x".repeat(101)],
    ["agent", "x".repeat(201)],
    ["callerName", "x".repeat(201)],
    ["trackingNumber", "x".repeat(41)],
  ])("when %s is over-long, then it is refused", (field, value) => {
    expect(refusal(ev({ [field]: value }))[0]!.path).toEqual([field]);
  });

  it.each([
    ["eventId", ""],
    ["callId", ""],
    ["from", ""],
    ["to", ""],
    ["agent", ""],
  ])("when %s is empty, then it is refused", (field, value) => {
    expect(refusal(ev({ [field]: value }))[0]!.path).toEqual([field]);
  });

  it("when strings are exactly at their limits, then they are accepted", () => {
    parse(ev({ eventId: "e".repeat(200), callId: "c".repeat(200), from: "f".repeat(100), to: "t".repeat(100), agent: "a".repeat(200), callerName: "n".repeat(200), trackingNumber: "9".repeat(40) }));
  });

  it.each([["eventId"], ["callId"], ["type"], ["direction"], ["from"], ["to"], ["occurredAt"]])("when required %s is missing, then it is refused", (field) => {
    const input = ev();
    delete input[field];
    expect(refusal(input)[0]!.path).toEqual([field]);
  });

  it.each([
    ["type", "hangup"],
    ["direction", "internal"],
    ["durationSec", -1],
    ["durationSec", 86_401],
    ["durationSec", 1.5],
    ["durationSec", "60"],
    ["answered", "yes"],
  ])("when %s is %p, then it is refused", (field, value) => {
    expect(refusal(ev({ [field]: value }))[0]!.path).toEqual([field]);
  });

  it.each([
    ["url is http", { id: "r1", url: "http://pbx.example.com/1.wav" }, "url"],
    ["url is not a URL", { id: "r1", url: "not a url" }, "url"],
    ["url is over-long", { id: "r1", url: `https://pbx.example.com/${"a".repeat(2000)}` }, "url"],
    ["channels is 3", { id: "r1", channels: 3 }, "channels"],
    ["durationSec is negative", { id: "r1", durationSec: -5 }, "durationSec"],
    ["id is empty", { id: "" }, "id"],
    ["id is over-long", { id: "r".repeat(201) }, "id"],
  ])("when the recording's %s, then it is refused", (_label, recording, field) => {
    expect(refusal(ev({ type: "recording", recording }))[0]!.path).toEqual(["recording", field]);
  });

  it.each([null, [], "ringing", 42])("when the body is %p, then it is refused", (body) => {
    refusal(body);
  });
});
