import type { EntityManager } from "typeorm";
import { prepared } from "../../platform/db/prepared";
import { returningRows } from "../../platform/db/sql";
import { displayOf } from "../phones/phone-number";
import type { AuditService } from "../audit/audit.service";
import type { OutboundEvents } from "../outbound-webhooks/outbound-events";

export interface ContactMatch {
  contactId: string;
  isNew: boolean;
  name: string;
  ownerId: string | null;
}

const INGEST_ACTOR = { type: "system", id: "ingest" } as const;

/**
 * The live contact a number (the parameter `param`) belongs to: id, name, owner_id. Other
 * statements (a caller's records, routing) embed it to save a round trip.
 */
export const contactByPhoneSql = (param: string): string =>
  `SELECT c.id, c.name, c.owner_id FROM contact_phones p JOIN contacts c ON c.id = p.contact_id WHERE p.e164 = ${param} AND c.deleted_at IS NULL`;

/** That contact's owner, as a scalar subquery: routing asks for it with the available agents. */
export const ownerByPhoneSql = (param: string): string => `(SELECT owner_id FROM (${contactByPhoneSql(param)}) AS c LIMIT 1)`;

const CONTACT_BY_PHONE = prepared("contacts.by_phone", contactByPhoneSql("$1"));
export class ContactsService {
  constructor(
    private readonly audit: AuditService,
    private readonly events: OutboundEvents,
  ) {}

  /** A new contact's name: the caller's (CNAM), else the number formatted for display. */
  nameFor(e164: string, callerName: string | undefined): string {
    return cleanName(callerName) ?? displayOf(e164);
  }

  /** A contact that a call made (see CallerRecordsService): audited and announced. */
  async recordCreatedByCall(em: EntityManager, contactId: string, name: string, e164: string): Promise<void> {
    await this.audit.record(em, {
      actor: INGEST_ACTOR,
      action: "create",
      entity: "contact",
      entityId: contactId,
      after: { id: contactId, name, phones: [e164] },
    });
    await this.events.emit(em, "contact.created", `contact.created:${contactId}`, { contact: { id: contactId, name, phones: [e164], source: "call" } });
  }

  /**
   * A caller's name that arrives with a later event than the one that made the contact (events
   * of a call may be applied in any order): it replaces the name made from the number, never a
   * name someone gave the contact.
   */
  async nameFromCaller(em: EntityManager, contactId: string, e164: string, callerName: string | undefined): Promise<void> {
    const name = cleanName(callerName);
    if (!name) return;
    const automatic = displayOf(e164);
    const renamed = await returningRows(em, `UPDATE contacts SET name = $2, updated_at = now() WHERE id = $1 AND name = $3 RETURNING id`, [contactId, name, automatic]);
    if (renamed.length === 0) return;
    await this.audit.record(em, { actor: INGEST_ACTOR, action: "update", entity: "contact", entityId: contactId, before: { name: automatic }, after: { name } });
  }

  /**
   * Where the contact came from: the first touch is kept once set, the last follows each
   * attributed call. Derived from calls, so not audited as a user's edit.
   */
  async recordTouch(em: EntityManager, contactId: string, attributionId: string): Promise<void> {
    await em.query(
      `UPDATE contacts SET first_touch_attribution_id = COALESCE(first_touch_attribution_id, $2), last_touch_attribution_id = $2 WHERE id = $1`,
      [contactId, attributionId],
    );
  }

  async findByE164(em: EntityManager, e164: string): Promise<{ contactId: string; name: string; ownerId: string | null } | undefined> {
    const rows = await em.query(CONTACT_BY_PHONE, [e164]);
    return rows[0] ? { contactId: rows[0].id, name: rows[0].name, ownerId: rows[0].owner_id } : undefined;
  }
}

/** CNAM names arrive upper-case and padded ("SMITH JOHN     "); control characters never pass. */
function cleanName(name: string | undefined): string | undefined {
  const cleaned = name?.replace(/[\p{Cc}\p{Cf}]/gu, "").replace(/\s+/g, " ").trim();
  return cleaned ? cleaned.slice(0, 120) : undefined;
}
