import type { DataSource, EntityManager } from "typeorm";
import { isUniqueViolation } from "../../platform/db/sql";
import { z } from "zod";
import { AppError } from "../../platform/errors";
import type { Actor, AuditService } from "../audit/audit.service";
import { parsePhone } from "../phones/phone-number";
import type { ContactView } from "./contacts.query";
import type { OutboundEvents } from "../outbound-webhooks/outbound-events";

const text = (max: number) => z.string().trim().min(1).max(max);
const phones = z.array(z.string().trim().min(3).max(40)).max(10);

export const newContactSchema = z
  .object({
    name: text(200),
    email: z.email().max(254).optional(),
    company: text(200).optional(),
    ownerId: z.uuid().optional(),
    phones: phones.default([]),
  })
  .strict();

export const contactPatchSchema = z
  .object({
    name: text(200).optional(),
    email: z.email().max(254).nullable().optional(),
    company: text(200).nullable().optional(),
    ownerId: z.uuid().nullable().optional(),
    /** The contact's numbers, replacing the ones it has. */
    phones: phones.optional(),
  })
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: "nothing to change" });

export const mergeContactSchema = z.object({ otherId: z.uuid() }).strict();

/** A contact as the edits answer it: the list's view without its timestamps. */
export type ContactRecord = Omit<ContactView, "createdAt">;

/**
 * What happens outside the CRM's own tables when two contacts become one: their calls move,
 * and the reports' per-caller columns are recomputed. Provided by the composition root.
 */
export type ContactMergeHook = (em: EntityManager, from: string, into: string) => Promise<void>;

const uuid = z.uuid();

/** Contacts as people edit them: create, update, merge. Every change is audited with before and after. */
export class ContactEditsService {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly defaultRegion: string,
    private readonly onMerge: ContactMergeHook,
    private readonly events: OutboundEvents,
  ) {}

  async create(actor: Actor, input: unknown, requestId?: string): Promise<ContactRecord> {
    const data = newContactSchema.parse(input);
    const numbers = this.normalise(data.phones);
    return this.ds.transaction(async (em) => {
      if (data.ownerId) await this.assertUser(em, data.ownerId);
      const [row] = await em.query(`INSERT INTO contacts (name, email, company, owner_id) VALUES ($1, $2, $3, $4) RETURNING id`, [
        data.name,
        data.email?.toLowerCase() ?? null,
        data.company ?? null,
        data.ownerId ?? null,
      ]);
      await this.addPhones(em, row.id, numbers);
      const after = await this.record(em, row.id);
      await this.audit.record(em, { actor, action: "create", entity: "contact", entityId: row.id, after, requestId });
      await this.events.emit(em, "contact.created", `contact.created:${row.id}`, { contact: { ...after, source: "api" } });
      return after;
    });
  }

  async update(actor: Actor, id: string, input: unknown, requestId?: string): Promise<ContactRecord> {
    this.assertId(id);
    const patch = contactPatchSchema.parse(input);
    const numbers = patch.phones ? this.normalise(patch.phones) : undefined;
    return this.ds.transaction(async (em) => {
      const before = await this.locked(em, id);
      if (patch.ownerId) await this.assertUser(em, patch.ownerId);
      await em.query(
        `UPDATE contacts SET name = COALESCE($2, name),
           email = CASE WHEN $3 THEN $4 ELSE email END,
           company = CASE WHEN $5 THEN $6 ELSE company END,
           owner_id = CASE WHEN $7 THEN $8::uuid ELSE owner_id END,
           updated_at = now()
         WHERE id = $1`,
        [id, patch.name ?? null, patch.email !== undefined, patch.email?.toLowerCase() ?? null, patch.company !== undefined, patch.company ?? null, patch.ownerId !== undefined, patch.ownerId ?? null],
      );
      if (numbers) {
        await em.query(`DELETE FROM contact_phones WHERE contact_id = $1 AND NOT (e164 = ANY ($2::text[]))`, [id, numbers]);
        await this.addPhones(em, id, numbers.filter((n) => !before.phones.includes(n)));
      }
      const after = await this.record(em, id);
      await this.audit.record(em, { actor, action: "update", entity: "contact", entityId: id, before, after, requestId });
      return after;
    });
  }

  /**
   * Folds `otherId` into `id`: phones, deals, tasks and notes move, empty fields are filled from
   * the other contact, two open call-back tasks become one, and the other contact is kept only
   * as a pointer (merged_into_id) so links to it can say where it went.
   */
  async merge(actor: Actor, id: string, input: unknown, requestId?: string): Promise<ContactRecord> {
    this.assertId(id);
    const { otherId } = mergeContactSchema.parse(input);
    if (otherId === id) throw new AppError("validation_failed", "A contact cannot be merged into itself");
    return this.ds.transaction(async (em) => {
      // Locked in id order, so two merges of the same pair cannot deadlock.
      const [first, second] = [id, otherId].sort();
      const a = await this.locked(em, first!);
      const b = await this.locked(em, second!);
      const [into, from] = a.id === id ? [a, b] : [b, a];

      await em.query(
        `UPDATE contacts i SET email = COALESCE(i.email, f.email), company = COALESCE(i.company, f.company),
           owner_id = COALESCE(i.owner_id, f.owner_id),
           first_touch_attribution_id = COALESCE(i.first_touch_attribution_id, f.first_touch_attribution_id),
           last_touch_attribution_id = COALESCE(i.last_touch_attribution_id, f.last_touch_attribution_id), updated_at = now()
         FROM contacts f WHERE i.id = $1 AND f.id = $2`,
        [into.id, from.id],
      );
      await this.mergeOpenCallBacks(em, from.id, into.id);
      for (const table of ["contact_phones", "deals", "tasks", "notes"]) {
        await em.query(`UPDATE ${table} SET contact_id = $2 WHERE contact_id = $1`, [from.id, into.id]);
      }
      await em.query(`UPDATE contacts SET merged_into_id = $2, deleted_at = now(), updated_at = now() WHERE id = $1`, [from.id, into.id]);
      await this.onMerge(em, from.id, into.id);

      const after = await this.record(em, into.id);
      await this.audit.record(em, { actor, action: "update", entity: "contact", entityId: into.id, before: into, after: { ...after, mergedFrom: from.id }, requestId });
      await this.audit.record(em, { actor, action: "delete", entity: "contact", entityId: from.id, before: from, after: { mergedInto: into.id }, requestId });
      return after;
    });
  }

  /** One open call-back per contact: the older task absorbs the other's missed calls and attempts. */
  private async mergeOpenCallBacks(em: EntityManager, from: string, into: string): Promise<void> {
    const open = await em.query(
      `SELECT id, contact_id FROM tasks WHERE contact_id = ANY ($1::uuid[]) AND type = 'call_back' AND status = 'open' ORDER BY created_at`,
      [[from, into]],
    );
    if (open.length < 2) return;
    const [keep, drop] = open;
    await em.query(
      `UPDATE tasks k SET missed_call_ids = k.missed_call_ids || d.missed_call_ids, attempts = k.attempts + d.attempts,
         due_at = LEAST(k.due_at, d.due_at), updated_at = now()
       FROM tasks d WHERE k.id = $1 AND d.id = $2`,
      [keep.id, drop.id],
    );
    await em.query(`UPDATE tasks SET status = 'canceled', resolution = 'merged', completed_at = now(), updated_at = now() WHERE id = $1`, [drop.id]);
  }

  private normalise(raw: string[]): string[] {
    const out: string[] = [];
    for (const value of raw) {
      const p = parsePhone(value, this.defaultRegion);
      if (p.kind !== "number") throw new AppError("validation_failed", `phones: "${value.slice(0, 40)}" is not a phone number`);
      if (!out.includes(p.e164)) out.push(p.e164);
    }
    return out;
  }

  private async addPhones(em: EntityManager, contactId: string, numbers: string[]): Promise<void> {
    for (const e164 of numbers) {
      const [owner] = await em.query(
        `SELECT p.contact_id FROM contact_phones p WHERE p.e164 = $1 AND p.contact_id <> $2`,
        [e164, contactId],
      );
      if (owner) throw new AppError("conflict", `${e164} already belongs to another contact`, { contactId: owner.contact_id, phone: e164 });
      try {
        await em.query(`INSERT INTO contact_phones (contact_id, e164, raw) VALUES ($1, $2, $2)`, [contactId, e164]);
      } catch (err) {
        // A concurrent call created that number's contact a moment ago.
        if (isUniqueViolation(err)) throw new AppError("conflict", `${e164} already belongs to another contact`, { phone: e164 });
        throw err;
      }
    }
  }

  private assertId(id: string): void {
    if (!uuid.safeParse(id).success) throw new AppError("not_found", "No such contact");
  }

  private async assertUser(em: EntityManager, userId: string): Promise<void> {
    const [user] = await em.query(`SELECT 1 FROM users WHERE id = $1 AND is_active`, [userId]);
    if (!user) throw new AppError("validation_failed", "ownerId: no such active user");
  }

  private async locked(em: EntityManager, id: string): Promise<ContactRecord> {
    const [row] = await em.query(`SELECT id, merged_into_id FROM contacts WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, [id]);
    if (!row) {
      const [merged] = await em.query(`SELECT merged_into_id FROM contacts WHERE id = $1`, [id]);
      throw new AppError("not_found", merged?.merged_into_id ? `This contact was merged into ${merged.merged_into_id}` : "No such contact");
    }
    return this.record(em, id);
  }

  private async record(em: EntityManager, id: string): Promise<ContactRecord> {
    const [row] = await em.query(
      `SELECT c.id, c.name, c.email, c.company, c.owner_id,
         COALESCE((SELECT array_agg(p.e164 ORDER BY p.created_at, p.e164) FROM contact_phones p WHERE p.contact_id = c.id), '{}') AS phones
       FROM contacts c WHERE c.id = $1`,
      [id],
    );
    return { id: row.id, name: row.name, email: row.email, company: row.company, ownerId: row.owner_id, phones: row.phones };
  }
}
