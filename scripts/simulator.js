// A stand-in for Twilio, step by step: it signs each webhook as Twilio would, reads the TwiML the
// service answers and follows it — rings the agents its <Dial> names (one call leg each, with
// status callbacks), answers on one of them or lets them all go unanswered, follows the <Dial>
// action to the next TwiML (everyone after the owner's turn, voicemail), and reports recordings.
// Used by `npm run simulate` and by the end-to-end tests.
const { randomBytes } = require("node:crypto");
const twilio = require("twilio");

const sid = (prefix) => `${prefix}${randomBytes(16).toString("hex")}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const attr = (tag, name) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1]?.replace(/&amp;/g, "&");

/** What a TwiML answer asks for: the <Dial> targets and action, or a <Record> callback. */
function parseTwiml(xml) {
  const dialTag = /<Dial\b[^>]*>/.exec(xml)?.[0];
  const targets = [...xml.matchAll(/<(Client|Number|Sip)\b[^>]*>([^<]+)<\/\1>/g)].map(([, kind, value]) =>
    kind === "Client" ? `client:${value.trim()}` : value.trim(),
  );
  const recordTag = /<Record\b[^>]*>/.exec(xml)?.[0];
  return {
    dial: dialTag ? { targets, action: attr(dialTag, "action") } : undefined,
    voicemail: recordTag ? { recordingCallback: attr(recordTag, "recordingStatusCallback"), action: attr(recordTag, "action") } : undefined,
  };
}

class Simulator {
  /** @param {{ url: string, publicUrl?: string, authToken: string, accountSid?: string, delayMs?: number }} opts */
  constructor(opts) {
    this.url = opts.url.replace(/\/+$/, "");
    this.publicUrl = (opts.publicUrl ?? opts.url).replace(/\/+$/, "");
    this.authToken = opts.authToken;
    this.accountSid = opts.accountSid ?? `AC${"5".repeat(32)}`;
    this.delayMs = opts.delayMs ?? 0;
  }

  /** POSTs a signed webhook; `target` is a path or an absolute URL from TwiML. Returns the body. */
  async post(target, params) {
    const pathAndQuery = target.startsWith("http") ? target.slice(new URL(target).origin.length) : target;
    const signature = twilio.getExpectedTwilioSignature(this.authToken, `${this.publicUrl}${pathAndQuery}`, params);
    const res = await fetch(`${this.url}${pathAndQuery}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
      body: new URLSearchParams(params),
    });
    const body = await res.text();
    if (res.status >= 300) throw new Error(`${pathAndQuery} answered ${res.status}${res.status === 403 ? " (is PUBLIC_URL the service's own?)" : ""}`);
    if (this.delayMs) await sleep(this.delayMs);
    return body;
  }

  /** A call comes in: Twilio asks the voice URL what to do. */
  async incoming(from, { to = "+15005550100", name = "" } = {}) {
    const call = new SimulatedCall(this, from, to);
    await call.start(name);
    return call;
  }
}

class SimulatedCall {
  constructor(sim, from, to) {
    this.sim = sim;
    this.callSid = sid("CA");
    this.base = { AccountSid: sim.accountSid, ApiVersion: "2010-04-01", CallSid: this.callSid, From: from, To: to, Caller: from, Called: to, Direction: "inbound" };
    this.legs = new Map();
    this.twiml = undefined;
  }

  async start(name) {
    this.voiceTwiml = await this.sim.post("/webhooks/twilio/voice", { ...this.base, CallStatus: "ringing", CallerName: name });
    this.twiml = parseTwiml(this.voiceTwiml);
    await this.ringDialed();
  }

  /** The agents the current <Dial> names (empty when nobody was available). */
  get ringing() {
    return this.twiml?.dial?.targets ?? [];
  }

  async ringDialed() {
    this.legs.clear();
    for (const target of this.ringing) this.legs.set(target, { sid: sid("CA"), seq: 0 });
    for (const target of this.legs.keys()) await this.leg(target, "initiated");
    for (const target of this.legs.keys()) await this.leg(target, "ringing");
  }

  leg(target, status, extra = {}) {
    const leg = this.legs.get(target);
    return this.sim.post("/webhooks/twilio/status", {
      ...this.base, CallSid: leg.sid, To: target, Direction: "outbound-dial", ParentCallSid: this.callSid, CallStatus: status,
      SequenceNumber: String(leg.seq++), CallbackSource: "call-progress-events", ...extra,
    });
  }

  /** Nobody on the current <Dial> answers; the action's TwiML comes next (more agents, voicemail). */
  async noAnswer() {
    const dial = this.twiml?.dial;
    if (!dial) return;
    for (const target of this.legs.keys()) await this.leg(target, "no-answer");
    const first = this.legs.values().next().value;
    this.twiml = parseTwiml(
      await this.sim.post(dial.action, { ...this.base, CallStatus: "in-progress", DialCallStatus: "no-answer", ...(first ? { DialCallSid: first.sid } : {}), DialBridged: "false" }),
    );
    await this.ringDialed();
  }

  /** `target` (default: the first one rung) picks up; the others stop ringing. Waits through earlier <Dial> stages. */
  async answer(target) {
    while (this.twiml?.dial && !(target ? this.ringing.includes(target) : this.ringing.length)) await this.noAnswer();
    const who = target ?? this.ringing[0];
    if (!who || !this.legs.has(who)) throw new Error(`${target ?? "an agent"} is not being rung (rung: ${this.ringing.join(", ") || "nobody"}; TwiML: ${this.voiceTwiml})`);
    for (const other of this.legs.keys()) if (other !== who) await this.leg(other, "canceled");
    await this.leg(who, "in-progress");
    this.answeredBy = who;
  }

  /** The conversation ends after `talkSec`; the dual-channel recording follows. */
  async hangUp(talkSec = 60) {
    const leg = this.legs.get(this.answeredBy);
    await this.leg(this.answeredBy, "completed", { CallDuration: String(talkSec) });
    await this.sim.post(this.twiml.dial.action, {
      ...this.base, CallStatus: "in-progress", DialCallStatus: "completed", DialCallSid: leg.sid, DialCallDuration: String(talkSec), DialBridged: "true",
    });
    await this.complete(talkSec + 8);
    await this.sim.post("/webhooks/twilio/recording", {
      AccountSid: this.sim.accountSid, CallSid: this.callSid, RecordingSid: sid("RE"), RecordingStatus: "completed",
      RecordingDuration: String(talkSec), RecordingChannels: "2", RecordingSource: "DialVerb",
    });
  }

  /** Nobody answers at any stage; with `message`, the caller leaves a voicemail when offered. */
  async miss({ message = false } = {}) {
    while (this.twiml?.dial) await this.noAnswer();
    const vm = this.twiml?.voicemail;
    await this.complete(message ? 40 : 30);
    if (vm && message) {
      await this.sim.post(vm.recordingCallback, {
        AccountSid: this.sim.accountSid, CallSid: this.callSid, RecordingSid: sid("RE"), RecordingStatus: "completed",
        RecordingDuration: "18", RecordingChannels: "1", RecordingSource: "RecordVerb",
      });
    }
  }

  /** The caller hangs up while it still rings. */
  async abandon() {
    for (const target of this.legs.keys()) await this.leg(target, "canceled");
    await this.complete(6);
  }

  complete(durationSec) {
    return this.sim.post("/webhooks/twilio/status", { ...this.base, CallStatus: "completed", CallDuration: String(durationSec), CallbackSource: "call-progress-events" });
  }
}

module.exports = { Simulator, parseTwiml };
