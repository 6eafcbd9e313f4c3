import { randomUUID } from "node:crypto";
import type { DataSource, EntityManager } from "typeorm";
import { z } from "zod";
import { actorOf, parsePhone, type AuditService, type ContactsService, type Principal } from "../../crm";
import { returningRows } from "../../platform/db/sql";
import { AppError } from "../../platform/errors";
import type { Logger } from "../../platform/logger";
import type { CallsQuery } from "../calls.query";
import type { CallIngestService } from "../ingest/call-ingest.service";
import { CallsRepository } from "../ingest/calls.repository";
import { clickToCallId } from "../twilio/twilio.adapter";
import { renderConnectTwiml } from "../twilio/twiml";
import type { TwilioCalls } from "./twilio-calls";

export const clickToCallBody = z
  .object({
    contactId: z.uuid().optional(),
    to: z.string().trim().min(1).max(40).optional(),
    /** The call-back task this call works; its contact is called when neither of the above is given. */
    taskId: z.uuid().optional(),
  })
  .strict()
  .refine((b) => !(b.contactId && b.to), "give contactId or to, not both")
  .refine((b) => b.contactId || b.to || b.taskId, "give contactId, to or taskId");

export interface ClickToCallConfig {
  publicUrl: string;
  defaultRegion: string;
  outbound: { callerId: string | undefined; perUserPerHour: number; perHour: number; ringSeconds: number };
}

export type AttemptResult = "placed" | "refused" | "limited" | "provider_error";

/**
 * Click-to-call: Twilio rings the agent's own dial target first; when they answer, TwiML bridges
 * the customer. The call is created through the ingest, as a provider-neutral event, before
 * Twilio is asked, under an id of ours that every callback carries back; so callbacks can never
 * outrun the record, and the call is logged, recorded and closes call-backs like any other.
 */
export class ClickToCallService {
  /** The ingest's own notion of "ours" (tracking, overflow and called numbers). */
  private readonly ownNumbers = new CallsRepository();

  constructor(
    private readonly deps: {
      ds: DataSource;
      ingest: CallIngestService;
      calls: CallsQuery;
      twilio: TwilioCalls;
      audit: AuditService;
      contacts: ContactsService;
      log: Logger;
      config: ClickToCallConfig;
      count: (result: AttemptResult) => void;
    },
  ) {}

  async start(who: Principal, input: unknown, requestId?: string) {
    try {
      const call = await this.place(who, input, requestId);
      this.deps.count("placed");
      return call;
    } catch (err) {
      const code = err instanceof AppError ? err.code : undefined;
      this.deps.count(code === "rate_limited" ? "limited" : code === "bad_gateway" ? "provider_error" : "refused");
      throw err;
    }
  }

  private async place(who: Principal, input: unknown, requestId?: string) {
    const body = clickToCallBody.parse(input);
    if (who.kind !== "user") throw new AppError("forbidden", "Click-to-call rings a person's phone: sign in as that person");
    if (!this.deps.twilio.configured) throw new AppError("provider_not_configured", "Click-to-call needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN");
    const [agent] = await this.deps.ds.query(`SELECT dial_target FROM users WHERE id = $1 AND is_active`, [who.id]);
    if (!agent?.dial_target) throw new AppError("unprocessable", "You have no dial target to ring: ask an admin to set one (client:…, a number or a SIP URI)");
    const task = body.taskId ? await this.openTask(who, body.taskId) : undefined;
    const customer = await this.customer(body.contactId ?? (body.to ? undefined : (task?.contactId ?? undefined)), body.to);
    if (task?.contactId && task.contactId !== customer.contactId) {
      throw new AppError("validation_failed", "taskId: this task is about another contact than the one to call");
    }
    const callerId = await this.callerId(customer.contactId);
    const ref = randomUUID();
    const callId = await this.deps.ds.transaction(async (em) => {
      await this.withinLimits(em, who.id);
      await this.deps.ingest.apply(
        em,
        { type: "call.started", provider: "twilio", callId: clickToCallId(ref), occurredAt: new Date(), direction: "outbound", from: callerId, to: customer.e164 },
        null,
      );
      const [row] = await returningRows<{ id: string }>(em, `UPDATE calls SET initiated_by = $2 WHERE provider = 'twilio' AND provider_call_id = $1 RETURNING id`, [
        clickToCallId(ref),
        who.id,
      ]);
      await this.deps.audit.record(em, {
        actor: actorOf(who),
        action: "place",
        entity: "call",
        entityId: row!.id,
        after: { to: customer.e164, callerId, dialTarget: agent.dial_target, taskId: task?.id ?? null },
        requestId,
      });
      return row!.id;
    });
    const { publicUrl, outbound } = this.deps.config;
    try {
      await this.deps.twilio.create({
        to: agent.dial_target,
        from: callerId,
        twiml: renderConnectTwiml({ publicUrl, callRef: ref, to: customer.e164, callerId, timeoutSec: outbound.ringSeconds }),
        statusCallback: `${publicUrl}/webhooks/twilio/status?c2c=${ref}`,
        timeoutSec: outbound.ringSeconds,
      });
    } catch (err) {
      // No answer from Twilio: the call may be ringing the agent already. It stays as it is (the
      // stale-call sweeper finishes it if no callback ever comes) rather than invite a second call.
      if (err instanceof AppError && (err.details as { outcome?: string } | undefined)?.outcome === "unknown") throw err;
      // Twilio refused: the call ends as failed (an attempt on record), the task untouched.
      await this.deps.ds.transaction((em) =>
        this.deps.ingest.apply(
          em,
          { type: "call.status", provider: "twilio", callId: clickToCallId(ref), occurredAt: new Date(), rawStatus: "rest-error", status: "failed", direction: "outbound", from: callerId, to: customer.e164 },
          null,
        ),
      );
      throw err;
    }
    // The call is ringing: a failure to count it on the task must not look like a failed call.
    if (task) await this.recordAttempt(who, task.id, requestId).catch((err: Error) => this.deps.log.warn({ err: err.message, taskId: task.id }, "counting a call attempt failed"));
    return this.deps.calls.get(callId);
  }

  private async openTask(who: Principal, taskId: string): Promise<{ id: string; contactId: string | null }> {
    const [t] = await this.deps.ds.query(`SELECT id, contact_id, status, assignee_id FROM tasks WHERE id = $1`, [taskId]);
    if (!t) throw new AppError("not_found", "No such task");
    if (who.role === "agent" && t.assignee_id !== who.id) throw new AppError("forbidden", "Agents call back their own tasks");
    if (t.status !== "open") throw new AppError("conflict", `This task is ${t.status}`);
    return { id: t.id, contactId: t.contact_id };
  }

  /** The number to ring: a contact's first phone, or a number typed in (never withheld, never ours). */
  private async customer(contactId: string | undefined, to: string | undefined): Promise<{ e164: string; contactId: string | null }> {
    if (contactId) {
      const [c] = await this.deps.ds.query(
        `SELECT c.id, (SELECT p.e164 FROM contact_phones p WHERE p.contact_id = c.id ORDER BY p.created_at LIMIT 1) AS phone
         FROM contacts c WHERE c.id = $1 AND c.deleted_at IS NULL`,
        [contactId],
      );
      if (!c) throw new AppError("not_found", "No such contact");
      if (!c.phone) throw new AppError("unprocessable", "This contact has no phone number");
      return { e164: c.phone, contactId: c.id };
    }
    const phone = parsePhone(to, this.deps.config.defaultRegion);
    if (phone.kind !== "number") throw new AppError("validation_failed", `to: ${phone.kind === "withheld" ? "a withheld number cannot be called" : "not a dialable phone number"}`);
    const em = this.deps.ds.manager;
    if (phone.e164 === this.deps.config.outbound.callerId || (await this.ownNumbers.isOwnNumber(em, phone.e164))) {
      throw new AppError("validation_failed", "to: that is one of our own numbers");
    }
    const match = await this.deps.contacts.findByE164(em, phone.e164);
    return { e164: phone.e164, contactId: match?.contactId ?? null };
  }

  /**
   * The number customers see: the line they last called us on when it is a static one (they
   * know it; a DNI pool number may be someone else's by now), else OUTBOUND_CALLER_ID.
   */
  private async callerId(contactId: string | null): Promise<string> {
    if (contactId) {
      const [last] = await this.deps.ds.query(
        `SELECT c.to_e164 FROM calls c LEFT JOIN tracking_numbers t ON t.number = c.to_e164
         WHERE c.contact_id = $1 AND c.direction = 'inbound' AND c.to_e164 IS NOT NULL AND (t.id IS NULL OR (t.pool_id IS NULL AND t.is_active))
         ORDER BY c.started_at DESC LIMIT 1`,
        [contactId],
      );
      if (last?.to_e164) return last.to_e164;
    }
    if (this.deps.config.outbound.callerId) return this.deps.config.outbound.callerId;
    throw new AppError("unprocessable", "No caller id to show: this contact never called a number of ours; set OUTBOUND_CALLER_ID");
  }

  /** Per-user and per-account calls in the last hour, counted under one lock so a burst cannot slip past. */
  private async withinLimits(em: EntityManager, userId: string): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtext('click-to-call'))`);
    const [n] = await em.query(
      `SELECT count(*) FILTER (WHERE initiated_by = $1)::int AS mine, count(*)::int AS total
       FROM calls WHERE initiated_by IS NOT NULL AND started_at > now() - interval '1 hour'`,
      [userId],
    );
    const { perUserPerHour, perHour } = this.deps.config.outbound;
    if (n.mine >= perUserPerHour) throw new AppError("rate_limited", `You have placed ${n.mine} calls in the last hour (the limit is ${perUserPerHour})`);
    if (n.total >= perHour) throw new AppError("rate_limited", `The account has placed ${n.total} calls in the last hour (the limit is ${perHour})`);
  }

  private async recordAttempt(who: Principal, taskId: string, requestId?: string): Promise<void> {
    await this.deps.ds.transaction(async (em) => {
      const [t] = await returningRows<{ call_attempts: number }>(
        em,
        `UPDATE tasks SET call_attempts = call_attempts + 1, last_call_attempt_at = now(), updated_at = now() WHERE id = $1 RETURNING call_attempts`,
        [taskId],
      );
      await this.deps.audit.record(em, { actor: actorOf(who), action: "update", entity: "task", entityId: taskId, after: { callAttempts: t?.call_attempts }, requestId });
    });
  }
}
