import type { DataSource } from "typeorm";
import { z } from "zod";
import { AppError } from "../../platform/errors";
import { cursorAt, KeysetQuery, pageFields, toPage } from "../../platform/db/keyset";
import { toE164 } from "../phones/phone-number";
import { isUuid } from "../../platform/uuid";

export const listContactsQuery = z
  .object({
    phone: z.string().trim().min(3).max(40).optional(),
    q: z.string().trim().min(1).max(100).optional(),
    ...pageFields(),
  })
  .strict();

export interface ContactView {
  id: string;
  name: string;
  email: string | null;
  company: string | null;
  ownerId: string | null;
  phones: string[];
  createdAt: string;
}

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Read side of contacts: search by a phone in any format, by name or by email. */
export class ContactsQuery {
  constructor(private readonly ds: DataSource, private readonly defaultRegion: string) {}

  async list(input: unknown): Promise<{ items: ContactView[]; nextCursor: string | null }> {
    const f = listContactsQuery.parse(input);
    const q = new KeysetQuery().where("c.deleted_at IS NULL");
    if (f.phone !== undefined) {
      const e164 = toE164(f.phone, this.defaultRegion);
      if (!e164) return { items: [], nextCursor: null };
      q.where("EXISTS (SELECT 1 FROM contact_phones p WHERE p.contact_id = c.id AND p.e164 = ?)", e164);
    }
    if (f.q !== undefined) q.where("(lower(c.name) LIKE ? OR lower(c.email) LIKE ?)", `${escapeLike(f.q.toLowerCase())}%`);
    q.after(f.cursor, "c.created_at", "c.id", "<");
    const rows: Array<ContactRow & { cursor_at: string }> = await this.ds.query(
      `SELECT c.id, c.name, c.email, c.company, c.owner_id, c.created_at, ${cursorAt("c.created_at")} AS cursor_at,
              COALESCE((SELECT array_agg(p.e164 ORDER BY p.created_at) FROM contact_phones p WHERE p.contact_id = c.id), '{}') AS phones
       FROM contacts c WHERE ${q.whereSql} ORDER BY c.created_at DESC, c.id DESC LIMIT ${q.limitSql(f.limit)}`,
      q.params,
    );
    return toPage(rows, f.limit, toView);
  }

  /** The contact with its calls, deals, open tasks and first / last touch. */
  async get(id: string) {
    if (!isUuid(id)) throw new AppError("not_found", "No such contact");
    const [row] = await this.ds.query(
      `SELECT c.id, c.name, c.email, c.company, c.owner_id, c.created_at, c.first_touch_attribution_id, c.last_touch_attribution_id,
              COALESCE((SELECT array_agg(p.e164 ORDER BY p.created_at) FROM contact_phones p WHERE p.contact_id = c.id), '{}') AS phones
       FROM contacts c WHERE c.id = $1 AND c.deleted_at IS NULL`,
      [id],
    );
    if (!row) throw new AppError("not_found", "No such contact");
    const [calls, deals, tasks, touches, notes] = await Promise.all([
      this.ds.query(
        `SELECT c.id, c.direction, c.status, c.outcome, c.started_at, c.duration_sec, c.answered_by,
                EXISTS (SELECT 1 FROM recordings r WHERE r.call_id = c.id AND r.status = 'completed') AS has_recording
         FROM calls c WHERE c.contact_id = $1 ORDER BY c.started_at DESC LIMIT 50`,
        [id],
      ),
      this.ds.query(
        `SELECT d.id, d.pipeline_id, s.name AS stage, d.amount, d.status, d.title, d.created_at FROM deals d
         JOIN pipeline_stages s ON s.id = d.stage_id WHERE d.contact_id = $1 ORDER BY d.created_at DESC`,
        [id],
      ),
      this.ds.query(
        `SELECT id, type, status, title, call_id, assignee_id, due_at, attempts FROM tasks
         WHERE contact_id = $1 AND (status = 'open' OR updated_at > now() - interval '30 days') ORDER BY due_at DESC LIMIT 50`,
        [id],
      ),
      this.ds.query(
        `SELECT id, source, medium, campaign, keyword FROM call_attributions WHERE id = ANY($1::uuid[])`,
        [[row.first_touch_attribution_id, row.last_touch_attribution_id].filter(Boolean)],
      ),
      this.ds.query(`SELECT id, call_id, author_id, body, created_at FROM notes WHERE contact_id = $1 ORDER BY created_at DESC LIMIT 50`, [id]),
    ]);
    const touch = (tid: string | null) => {
      const t = touches.find((x: { id: string }) => x.id === tid);
      return t ? { source: t.source, medium: t.medium, campaign: t.campaign, keyword: t.keyword } : null;
    };
    return {
      ...toView(row),
      calls: calls.map((c: Record<string, unknown>) => ({
        id: c.id,
        direction: c.direction,
        status: c.status,
        outcome: c.outcome,
        startedAt: iso(c.started_at as Date),
        durationSec: c.duration_sec,
        answeredBy: c.answered_by,
        hasRecording: c.has_recording,
      })),
      deals: deals.map((d: Record<string, unknown>) => ({
        id: d.id,
        contactId: id,
        pipelineId: d.pipeline_id,
        stage: d.stage,
        amount: d.amount,
        status: d.status,
        title: d.title,
        createdAt: iso(d.created_at as Date),
      })),
      tasks: tasks.map((t: Record<string, unknown>) => ({
        id: t.id,
        type: t.type,
        status: t.status,
        title: t.title,
        contactId: id,
        callId: t.call_id,
        assigneeId: t.assignee_id,
        dueAt: iso(t.due_at as Date),
        attempts: t.attempts,
      })),
      notes: notes.map((n: Record<string, unknown>) => ({ id: n.id, callId: n.call_id, authorId: n.author_id, body: n.body, createdAt: iso(n.created_at as Date) })),
      attribution: { firstTouch: touch(row.first_touch_attribution_id), lastTouch: touch(row.last_touch_attribution_id) },
    };
  }
}

interface ContactRow {
  id: string;
  name: string;
  email: string | null;
  company: string | null;
  owner_id: string | null;
  created_at: Date;
  phones: string[];
}

function toView(r: ContactRow): ContactView {
  return { id: r.id, name: r.name, email: r.email, company: r.company, ownerId: r.owner_id, phones: r.phones, createdAt: new Date(r.created_at).toISOString() };
}
