import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import type { EntityManager } from "typeorm";
import { prepared } from "../../platform/db/prepared";
import { returningRows } from "../../platform/db/sql";
import type { AuditService } from "../audit/audit.service";
import type { ParsedPhone } from "../phones/phone-number";
import type { OutboundEvents } from "../outbound-webhooks/outbound-events";

export interface ContactMatch {
  contactId: string;
  isNew: boolean;
  name: string;
  ownerId: string | null;
}

const INGEST_ACTOR = { type: "system", id: "ingest" } as const;

const CONTACT_BY_PHONE = prepared(
  "contacts.by_phone",
  `SELECT c.id, c.name, c.owner_id FROM contact_phones p JOIN contacts c ON c.id = p.contact_id WHERE p.e164 = $1 AND c.deleted_at IS NULL`,
);
/**
 * The contact that has the number, or else the number and its new contact, in one statement.
 * The number goes first: when another contact got it meanwhile (ON CONFLICT waits for a
 * concurrent first call to commit), nothing is written and nothing comes back. The phone's
 * foreign key is checked at the end of the statement, when the contact exists.
 */
const MATCH_OR_INSERT_CONTACT = prepared(
  "contacts.match_or_insert",
  `WITH found AS (
     SELECT c.id, c.name, c.owner_id FROM contact_phones p JOIN contacts c ON c.id = p.contact_id WHERE p.e164 = $2 AND c.deleted_at IS NULL),
   phone AS (
     INSERT INTO contact_phones (contact_id, e164, raw, extension) SELECT gen_random_uuid(), $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM found)
     ON CONFLICT (e164) DO NOTHING RETURNING contact_id),
   created AS (INSERT INTO contacts (id, name) SELECT contact_id, $1 FROM phone RETURNING id, name)
   SELECT id, name, owner_id, false AS created FROM found
   UNION ALL SELECT id, name, NULL, true FROM created`,
);

export class ContactsService {
  constructor(
    private readonly audit: AuditService,
    private readonly events: OutboundEvents,
  ) {}

  /**
   * The contact that owns this number, created if none does. Exactly one contact per number
   * even under concurrent first calls: the unique index on contact_phones.e164 decides the
   * winner; a loser writes nothing and reads the winner's row (never read-then-write).
   */
  async matchOrCreateByPhone(
    em: EntityManager,
    phone: Extract<ParsedPhone, { kind: "number" }>,
    opts: { raw: string; callerName?: string },
  ): Promise<ContactMatch> {
    const name = cleanName(opts.callerName) ?? formatForDisplay(phone.e164);
    const [row] = await em.query(MATCH_OR_INSERT_CONTACT, [name, phone.e164, opts.raw.slice(0, 100), phone.extension ?? null]);
    if (!row) {
      // A concurrent first call from the number won: its contact, committed now (a new snapshot).
      const winner = await this.findByE164(em, phone.e164);
      if (!winner) throw new Error(`contact for ${phone.e164} vanished during upsert`);
      return { ...winner, isNew: false };
    }
    if (!row.created) return { contactId: row.id, name: row.name, ownerId: row.owner_id, isNew: false };
    const contactId: string = row.id;
    await this.audit.record(em, {
      actor: INGEST_ACTOR,
      action: "create",
      entity: "contact",
      entityId: contactId,
      after: { id: contactId, name, phones: [phone.e164] },
    });
    await this.events.emit(em, "contact.created", `contact.created:${contactId}`, { contact: { id: contactId, name, phones: [phone.e164], source: "call" } });
    return { contactId, isNew: true, name, ownerId: null };
  }

  /**
   * A caller's name that arrives with a later event than the one that made the contact (events
   * of a call may be applied in any order): it replaces the name made from the number, never a
   * name someone gave the contact.
   */
  async nameFromCaller(em: EntityManager, contactId: string, e164: string, callerName: string | undefined): Promise<void> {
    const name = cleanName(callerName);
    if (!name) return;
    const automatic = formatForDisplay(e164);
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

function formatForDisplay(e164: string): string {
  return parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
}
