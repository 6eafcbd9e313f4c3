// Ends the calls a pops run left ringing, as Twilio would when nobody answers: a signed
// `no-answer` status callback each, then waits until the service has applied them all.
// Calls that rang forever made the next run start with thousands of ringing calls, whose pops
// every agent's socket was sent again on connecting (the replay), on the CPU of the run measured.
const twilio = require("twilio");

const PARALLEL = 20;

async function endRingingCalls({ publicUrl, token, query, timeoutMs = 120_000 }) {
  const ringing = await query(`SELECT provider_call_id, from_raw, to_raw FROM calls WHERE status = 'ringing' AND provider = 'twilio'`);
  const path = "/webhooks/twilio/status";
  const send = async ({ provider_call_id: callSid, from_raw: from, to_raw: to }) => {
    const params = { AccountSid: `AC${"c".repeat(32)}`, CallSid: callSid, From: from, To: to, Direction: "inbound", CallStatus: "no-answer", CallDuration: "0" };
    const res = await fetch(`${publicUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilio.getExpectedTwilioSignature(token, `${publicUrl}${path}`, params) },
      body: new URLSearchParams(params).toString(),
    });
    if (!res.ok) throw new Error(`ending a call: HTTP ${res.status}`);
  };
  for (let i = 0; i < ringing.length; i += PARALLEL) await Promise.all(ringing.slice(i, i + PARALLEL).map(send));
  const end = Date.now() + timeoutMs;
  for (;;) {
    const [{ n }] = await query(`SELECT count(*)::int AS n FROM calls WHERE status = 'ringing'`);
    if (n === 0) return ringing.length;
    if (Date.now() > end) throw new Error(`${n} calls still ringing after ending them`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

module.exports = { endRingingCalls };
