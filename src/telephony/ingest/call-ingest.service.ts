import { createHash } from "node:crypto";
import type { EntityManager } from "typeorm";
import type { AgentsService, AuditService, CallBackTasksService, CallerRecords, CallerRecordsService, ContactMatch, ContactsService, OutboundEvents } from "../../crm";
import { parsePhone, type ParsedPhone } from "../../crm";
import type { CallAttributionService, NewCallReport, NewInboundCall } from "../../tracking";
import { addToOutbox } from "../../platform/outbox";
import type { CallEvent, CallParty, DialResultEvent, LegStatusEvent, RecordingEvent } from "../call-event";
import { callStatusOf, earliest, laterStatus, outcomeOf, strongerReason, type MissedReason } from "./call-state";
import { CallsRepository, LEG_RANKS, type CallRow } from "./calls.repository";

export interface IngestDeps {
  contacts: ContactsService;
  callers: CallerRecordsService;
  tasks: CallBackTasksService;
  agents: AgentsService;
  attribution: CallAttributionService;
  events: OutboundEvents;
  audit: AuditService;
  defaultRegion: string;
  callbackSlaMinutes: number;
}

export type IngestResult = "applied" | "deferred";

/**
 * Applies one provider-neutral call event inside the caller's transaction. Idempotent: the
 * same event applied twice changes nothing the second time, and events of one call may arrive
 * in any order (see call-state.ts).
 */
export class CallIngestService {
  private readonly calls = new CallsRepository();

  constructor(private readonly deps: IngestDeps) {}

  /**
   * The events of one delivery, in order. Only the first can defer (it names a call not seen
   * yet), so a deferred delivery wrote nothing.
   */
  async applyAll(em: EntityManager, events: CallEvent[], inboxId: string | null): Promise<"applied" | "deferred" | "ignored"> {
    if (events.length === 0) return "ignored";
    for (const [i, ev] of events.entries()) {
      if ((await this.apply(em, ev, inboxId, { lastOfDelivery: i === events.length - 1 })) === "deferred") return "deferred";
    }
    return "applied";
  }

  /** `lastOfDelivery`: no later event of the delivery reads this call's row (see `save`). */
  async apply(em: EntityManager, ev: CallEvent, inboxId: string | null, opts: { lastOfDelivery?: boolean } = {}): Promise<IngestResult> {
    let call: CallRow | undefined;
    let created = false;
    let customerIsOwn = false;
    // The customer's number as parsed for the call's row, reused for their contact.
    let customer: ParsedPhone | undefined;
    // The agent's leg: as its event gives it, and as written with its call's lock.
    let leg: { fields: LegFields; written: LegResult } | undefined;
    // Legs and recordings carry no caller details: they wait for the call itself (the inbox
    // keeps the delivery), and are written by the statement that locks it.
    if (ev.type === "leg.status") {
      const fields = legOf(ev);
      const locked = await this.calls.lockWithLeg(em, fields);
      if (!locked) return "deferred";
      call = locked.call;
      leg = { fields, written: locked.leg };
    } else if (ev.type === "recording") {
      call = await this.calls.lockWithRecording(em, recordingOf(ev));
      if (!call) return "deferred";
    } else {
      const fields = this.newCall(ev);
      customer = fields.customer;
      // A new inbound call may meet a tracker's report of it: both take the same locks first.
      const locks = fields.direction === "inbound" ? this.deps.attribution.lockKeys(fields.fromE164, fields.providerCallId) : [];
      ({ call, created, customerIsOwn } = await this.calls.upsertAndLock(em, fields, locks));
    }
    const before = { ...call };
    // The contact as matched or made for a new call: what a call-back task needs, without reading it again.
    let contact: ContactMatch | undefined;
    let report: NewCallReport | undefined;
    if (created) {
      if (call.direction === "inbound" && call.toE164) await this.calls.rememberOwnNumber(em, call.toE164, call.startedAt);
      const inbound = this.inboundCall(call, ev as CallEvent & CallParty);
      // The attribution's first read rides in the contact's statement (both come after the locks).
      const records = customerIsOwn || !customer ? undefined : await this.attachContact(em, call, ev as CallEvent & CallParty, customer, inbound);
      contact = records?.contact;
      if (inbound) {
        report = await this.deps.attribution.attributeCall(em, { ...inbound, contactId: call.contactId, newContact: contact?.isNew ?? false }, records?.riderRow);
      }
    } else if ("callerName" in ev && ev.callerName && call.contactId && call.fromE164 && call.direction === "inbound") {
      // The call was made from a later event (they arrive in any order): the name still counts.
      await this.deps.contacts.nameFromCaller(em, call.contactId, call.fromE164, ev.callerName);
    }
    await this.calls.addEvent(em, call.id, inboxId, ev);

    call.startedAt = earliest(call.startedAt, ev.type === "call.started" ? ev.occurredAt : null) ?? call.startedAt;
    switch (ev.type) {
      case "call.started":
        if (ev.ringing && ev.ringing.length === 0) call.missedReason = strongerReason(call.missedReason, "no-agents");
        break;
      case "call.status":
        await this.applyCallStatus(em, call, ev);
        break;
      case "leg.status":
        await this.applyLeg(em, call, ev, leg!);
        break;
      case "dial.result":
        await this.applyDialResult(em, call, ev);
        break;
      case "recording":
        await this.applyRecording(em, call, ev);
        break;
    }
    call.outcome = outcomeOf(call);
    // An answered call has no missed reason, whatever arrived before its answer.
    if (call.outcome === "answered") call.missedReason = null;
    // What follows reads other rows: the contact's other calls (its call-back task), users, the
    // tasks; only a caller's chain of calls is read from the saved rows. Else the call's write
    // waits for the delivery's closing statement: a round trip less for a ringing call, a miss.
    await this.calls.save(em, before, call, report, { withClosingStatement: opts.lastOfDelivery === true && !report?.refreshChain });
    if (report) await this.deps.attribution.afterCallSaved(em, report);
    await this.auditCall(em, before, call, created, inboxId);
    await this.afterChange(em, before, call, created, contact);
    // A ringing event applied after the answer (deliveries come in any order) pops for no one.
    const ringing = ev.type === "call.started" && call.status === "ringing" ? await this.ringingUsers(em, ev) : [];
    if (ringing.length > 0) {
      const userIds = [...new Set(ringing)].sort();
      // The agents as a digest: their ids made a key of ~410 bytes for ten agents, written
      // into the outbox's unique index twice (by the insert, and by the claim's update).
      const agents = createHash("sha256").update(userIds.join(",")).digest("base64url");
      await addToOutbox(em, "screen-pop", { callId: call.id, userIds }, `pop:${call.id}:${agents}`);
    }
    return "applied";
  }

  /** The agents to pop: routing's user ids, or the agents a PBX names. */
  private async ringingUsers(em: EntityManager, ev: Extract<CallEvent, { type: "call.started" }>): Promise<string[]> {
    const ids = [...(ev.ringing ?? [])];
    for (const ref of ev.ringingAgentRefs ?? []) {
      const id = await this.deps.agents.userIdByAgentRef(em, ref);
      if (id) ids.push(id);
    }
    return ids;
  }

  private newCall(ev: CallEvent & CallParty) {
    const fromPhone = parsePhone(ev.from, this.deps.defaultRegion);
    const toPhone = parsePhone(ev.to, this.deps.defaultRegion);
    // An agent's own device calling out (From client:/sip:) is an outbound call to `to`.
    const direction = ev.direction === "inbound" && fromPhone.kind === "internal" ? "outbound" : ev.direction;
    const status = ev.type === "call.status" ? (callStatusOf(ev.status) ?? "ringing") : "ringing";
    return {
      provider: ev.provider,
      providerCallId: ev.callId,
      direction,
      fromRaw: ev.from,
      toRaw: ev.to,
      fromE164: fromPhone.kind === "number" ? fromPhone.e164 : null,
      toE164: toPhone.kind === "number" ? toPhone.e164 : null,
      // The customer is the caller on inbound calls and the callee on outbound ones.
      customer: direction === "inbound" ? fromPhone : toPhone,
      status,
      startedAt: ev.occurredAt,
    } as const;
  }

  /** The customer is the caller on inbound calls and the callee on outbound ones; none for a withheld number (own numbers never get here). */
  private async attachContact(em: EntityManager, call: CallRow, ev: CallParty, phone: ParsedPhone, inbound: InboundCall | undefined): Promise<CallerRecords | undefined> {
    const raw = call.direction === "inbound" ? call.fromRaw : call.toRaw;
    if (phone.kind !== "number") return undefined;
    // The number this very call reached is ours too (it is remembered when the delivery is written).
    if (call.direction === "inbound" && phone.e164 === call.toE164) return undefined;
    const records = await this.deps.callers.forCall(
      em,
      phone,
      {
        raw,
        callerName: call.direction === "inbound" ? ev.callerName : undefined,
        callId: call.id,
        startedAt: call.startedAt,
        dealTitle: `${call.direction === "inbound" ? "Call from" : "Call to"} ${raw}`,
      },
      inbound && this.deps.attribution.lookupRider(inbound),
    );
    call.contactId = records.contact.contactId;
    call.dealId = records.dealId;
    call.isFirstTimeCaller = !records.hasEarlierCall;
    return records;
  }

  /** An inbound call as its attribution sees it: the number it reached (the tracking number a PBX names, else `to`). */
  private inboundCall(call: CallRow, ev: CallParty): InboundCall | undefined {
    if (call.direction !== "inbound") return undefined;
    const dialled = ev.trackingNumber ? parsePhone(ev.trackingNumber, this.deps.defaultRegion) : null;
    return {
      callId: call.id,
      providerCallId: call.providerCallId,
      calledNumber: dialled?.kind === "number" ? dialled.e164 : call.toE164,
      caller: call.fromE164,
      at: call.startedAt,
    };
  }

  private async applyCallStatus(em: EntityManager, call: CallRow, ev: Extract<CallEvent, { type: "call.status" }>): Promise<void> {
    const status = callStatusOf(ev.status);
    if (!status) return; // unknown statuses are kept in the history and otherwise ignored
    call.status = laterStatus(call.status, status);
    if (ev.sequence !== undefined) call.lastSequence = Math.max(call.lastSequence ?? -1, ev.sequence);
    // Twilio answers the inbound leg itself (voicemail, messages): only an agent's leg means
    // "answered". A PBX's answered event and an outbound callee picking up do mean it.
    const agentAnswered = ev.status === "in-progress" && (ev.provider === "pbx" || call.direction === "outbound");
    if (agentAnswered) {
      call.answeredAt = earliest(call.answeredAt, ev.occurredAt);
      if (!call.answeredBy && ev.agent) call.answeredBy = await this.deps.agents.userIdByAgentRef(em, ev.agent);
      // Click-to-call: the customer picked up; the call is the agent's who placed it.
      call.answeredBy ??= call.initiatedBy;
    }
    if (status === "completed") {
      call.endedAt = earliest(call.endedAt, ev.occurredAt);
      call.durationSec ??= ev.durationSec ?? null;
      const reason = ev.rawStatus === "timeout" ? "timeout" : missedReasonOf(ev.status);
      if (reason && !call.answeredAt) call.missedReason = strongerReason(call.missedReason, reason);
      if (!call.answeredAt) call.missedReason = strongerReason(call.missedReason, "abandoned");
    }
  }

  private async applyLeg(em: EntityManager, call: CallRow, ev: LegStatusEvent, { fields, written: leg }: { fields: LegFields; written: LegResult }): Promise<void> {
    const { answered, ended } = fields;
    if (call.direction === "outbound") {
      // Click-to-call rings the agent first: their answer is not the customer's. They are busy meanwhile.
      // A late or redelivered "answered" after the leg or the call ended must not leave them busy.
      if (answered && leg.userId && !leg.ended && call.status !== "completed") await this.deps.agents.markBusy(em, leg.userId);
      if (ended && leg.userId && !call.answeredBy) await this.deps.agents.markFree(em, leg.userId);
      return;
    }
    if (answered) {
      // An agent's leg picked up: the caller is connected (answerOnBridge), whatever the parent leg reports later.
      call.status = laterStatus(call.status, "in-progress");
      const wasFirst = !call.answeredAt || ev.occurredAt < call.answeredAt;
      call.answeredAt = earliest(call.answeredAt, ev.occurredAt);
      if (wasFirst || !call.answeredBy) call.answeredBy = leg.userId ?? call.answeredBy;
    }
  }

  private async applyDialResult(em: EntityManager, call: CallRow, ev: DialResultEvent): Promise<void> {
    if (ev.bridged || ev.result === "answered") {
      const approx = new Date(ev.occurredAt.getTime() - (ev.durationSec ?? 0) * 1000);
      call.answeredAt = earliest(call.answeredAt, approx);
      if (!call.answeredBy && ev.answeredLegId) call.answeredBy = await this.calls.legUser(em, ev.provider, ev.answeredLegId);
      call.answeredBy ??= call.initiatedBy;
      return;
    }
    call.missedReason = strongerReason(call.missedReason, ev.result === "unknown" ? "no-answer" : ev.result);
  }

  /** The recording itself was written with its call's lock (recordingOf). */
  private async applyRecording(em: EntityManager, call: CallRow, ev: RecordingEvent): Promise<void> {
    if (ev.status === "completed") {
      await this.deps.events.emit(em, "recording.ready", `recording.ready:${ev.provider}:${ev.recordingId}`, {
        recording: { callId: call.id, kind: ev.kind, durationSec: ev.durationSec ?? null, channels: ev.channels ?? null },
      });
    }
    if (ev.kind === "voicemail" && ev.status === "completed" && !call.answeredAt) {
      call.missedReason = strongerReason(call.missedReason, "voicemail");
    }
  }

  /** A call's record changes are audited like any other record's: who (the ingest), what, from which delivery. */
  private async auditCall(em: EntityManager, before: CallRow, call: CallRow, created: boolean, inboxId: string | null): Promise<void> {
    const changed = AUDITED_CALL_FIELDS.filter((k) => String(before[k]) !== String(call[k]));
    if (!created && changed.length === 0) return;
    const pick = (c: CallRow) => Object.fromEntries((created ? AUDITED_CALL_FIELDS : changed).map((k) => [k, c[k] instanceof Date ? (c[k] as Date).toISOString() : c[k]]));
    await this.deps.audit.record(em, {
      actor: { type: "system", id: "ingest" },
      action: created ? "create" : "update",
      entity: "call",
      entityId: call.id,
      before: created ? undefined : pick(before),
      after: { ...pick(call), ...(inboxId ? { delivery: inboxId } : {}) },
    });
  }

  /** Tasks and pushes that follow from how the call changed. */
  private async afterChange(em: EntityManager, before: CallRow, call: CallRow, created: boolean, known?: ContactMatch): Promise<void> {
    // A contact this transaction created: no other one can see it yet (see MissedCall.contactIsNew).
    const contactIsNew = known?.contactId === call.contactId && known.isNew;
    if (call.outcome === "missed" && before.outcome !== "missed" && call.direction === "inbound" && call.contactId) {
      const change = await this.deps.tasks.recordMissedCall(em, {
        contactId: call.contactId,
        contactIsNew,
        callerNumber: call.fromRaw,
        callId: call.id,
        callStartedAt: call.startedAt,
        slaMinutes: this.deps.callbackSlaMinutes,
      });
      if (change?.created && change.assigneeId) {
        await addToOutbox(em, "task.assigned", { taskId: change.taskId, assigneeId: change.assigneeId }, `task-assigned:${change.taskId}:${change.assigneeId}`);
      }
      if (change?.created) {
        await this.deps.events.emit(em, "task.created", `task.created:${change.taskId}`, {
          task: { id: change.taskId, type: "call_back", contactId: call.contactId, callId: call.id, assigneeId: change.assigneeId ?? null },
        });
      }
    }
    if (call.outcome === "missed" && before.outcome !== "missed") {
      await this.deps.events.emit(em, "call.missed", `call.missed:${call.id}`, { call: summary(call) });
    }
    if (call.status === "completed" && before.status !== "completed") {
      await this.deps.events.emit(em, "call.completed", `call.completed:${call.id}`, { call: summary(call) });
    }
    if (call.outcome === "answered" && before.outcome !== "answered" && call.contactId && call.answeredAt) {
      if (before.outcome === "missed") await this.deps.tasks.withdrawMissedCall(em, call.id);
      await this.deps.tasks.closeOnAnsweredCall(em, {
        contactId: call.contactId,
        contactIsNew,
        callId: call.id,
        callStartedAt: call.startedAt,
        answeredAt: call.answeredAt,
        byUserId: call.answeredBy,
      });
    } else if (call.outcome === "answered" && call.answeredBy && !before.answeredBy) {
      await this.deps.tasks.creditCallBack(em, call.id, call.answeredBy);
    }
    if (call.answeredBy && call.status !== "completed" && before.answeredBy !== call.answeredBy) {
      await this.deps.agents.markBusy(em, call.answeredBy);
    }
    if (call.answeredBy && call.status === "completed" && before.status !== "completed") {
      await this.deps.agents.markFree(em, call.answeredBy);
    }
    // A new call is news too: supervisors' boards show calls from their first ring.
    if (created || before.status !== call.status || before.outcome !== call.outcome || before.answeredBy !== call.answeredBy) {
      await addToOutbox(
        em,
        "call.update",
        { callId: call.id, status: call.status, outcome: call.outcome, answeredBy: call.answeredBy },
        `call-update:${call.id}:${call.status}:${call.outcome ?? "-"}:${call.answeredBy ?? "-"}`,
      );
    }
  }
}

const AUDITED_CALL_FIELDS = ["status", "outcome", "missedReason", "answeredBy", "contactId", "dealId", "answeredAt", "endedAt", "durationSec"] as const satisfies ReadonlyArray<keyof CallRow>;

/** What other systems are told about a call: our fields only, never a provider's. */
const summary = (c: CallRow) => ({
  id: c.id,
  direction: c.direction,
  from: c.fromRaw,
  to: c.toRaw,
  status: c.status,
  outcome: c.outcome,
  missedReason: c.missedReason,
  answeredBy: c.answeredBy,
  contactId: c.contactId,
  dealId: c.dealId,
  startedAt: c.startedAt.toISOString(),
  answeredAt: c.answeredAt?.toISOString() ?? null,
  endedAt: c.endedAt?.toISOString() ?? null,
  durationSec: c.durationSec,
});

type InboundCall = Omit<NewInboundCall, "contactId" | "newContact">;
type LegResult = { userId: string | null; ended: boolean };
type LegFields = ReturnType<typeof legOf>;

/** A leg's row as its event gives it. */
function legOf(ev: LegStatusEvent) {
  const ended = callStatusOf(ev.status) === "completed";
  return {
    provider: ev.provider,
    providerCallId: ev.callId,
    legId: ev.legId,
    target: ev.target,
    status: ev.status,
    rank: LEG_RANKS[ev.status],
    occurredAt: ev.occurredAt,
    answered: ev.status === "in-progress",
    ended,
    durationSec: ended ? ev.durationSec : undefined,
    sequence: ev.sequence,
  };
}

/** A recording's row as its event gives it. */
const recordingOf = (ev: RecordingEvent) => ({
  provider: ev.provider,
  providerCallId: ev.callId,
  recordingId: ev.recordingId,
  status: ev.status,
  durationSec: ev.durationSec,
  channels: ev.channels,
  source: ev.kind,
  startedAt: ev.startedAt,
});

function missedReasonOf(status: string): MissedReason | undefined {
  switch (status) {
    case "busy":
    case "no-answer":
    case "failed":
    case "canceled":
      return status;
    default:
      return undefined;
  }
}
