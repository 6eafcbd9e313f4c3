// The deliveries Twilio makes for one answered inbound call, in the order it makes them: the
// voice webhook, the agent leg's four statuses, the dial action, the parent's completion and the
// recording. Used by load.js to give the queue a realistic mix (one new call per eight events).
const { randomBytes } = require("node:crypto");

const ACCOUNT = `AC${"b".repeat(32)}`;
const sid = (prefix) => `${prefix}${randomBytes(16).toString("hex")}`;

function newCall(from, to, agentTarget) {
  return { callSid: sid("CA"), legSid: sid("CA"), recordingSid: sid("RE"), from, to, agentTarget };
}

function deliveries(c) {
  const base = { AccountSid: ACCOUNT, ApiVersion: "2010-04-01", CallSid: c.callSid, From: c.from, To: c.to, Caller: c.from, Called: c.to, Direction: "inbound" };
  const leg = (status, i) => ({
    path: "/webhooks/twilio/status",
    params: {
      ...base,
      CallSid: c.legSid,
      To: c.agentTarget,
      Called: c.agentTarget,
      Direction: "outbound-dial",
      ParentCallSid: c.callSid,
      CallStatus: status,
      SequenceNumber: String(i),
      CallbackSource: "call-progress-events",
      Timestamp: new Date().toUTCString(),
      ...(status === "completed" ? { CallDuration: "42" } : {}),
    },
  });
  return [
    { path: "/webhooks/twilio/voice", params: { ...base, CallStatus: "ringing" } },
    ...["initiated", "ringing", "in-progress", "completed"].map(leg),
    { path: "/webhooks/twilio/dial?stage=all", params: { ...base, CallStatus: "in-progress", DialCallStatus: "completed", DialCallSid: c.legSid, DialCallDuration: "42", DialBridged: "true" } },
    { path: "/webhooks/twilio/status", params: { ...base, CallStatus: "completed", CallDuration: "50", CallbackSource: "call-progress-events" } },
    {
      path: "/webhooks/twilio/recording",
      params: {
        AccountSid: ACCOUNT,
        CallSid: c.callSid,
        RecordingSid: c.recordingSid,
        RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Recordings/${c.recordingSid}`,
        RecordingStatus: "completed",
        RecordingDuration: "40",
        RecordingChannels: "2",
        RecordingSource: "DialVerb",
      },
    },
  ];
}

module.exports = { newCall, deliveries, DELIVERIES_PER_CALL: 8 };
