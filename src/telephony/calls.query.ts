import type { DataSource } from "typeorm";
import { z } from "zod";
import { AppError } from "../platform/errors";
import { decodeCursor, encodeCursor } from "../platform/http/cursor";

export const listCallsQuery = z
  .object({
    contactId: z.uuid().optional(),
    outcome: z.enum(["answered", "missed"]).optional(),
    direction: z.enum(["inbound", "outbound"]).optional(),
    status: z.enum(["ringing", "in-progress", "completed"]).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(25),
  })
  .strict();

const SELECT = `SELECT c.id, c.provider_call_id, c.direction, c.from_raw, c.to_raw, c.status, c.outcome, c.missed_reason,
  c.answered_by, c.started_at, c.answered_at, c.ended_at, c.duration_sec, c.contact_id, c.deal_id, c.is_first_time_caller, c.disposition,
  to_char(c.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at,
  (SELECT json_build_object('durationSec', r.duration_sec, 'status', r.status) FROM recordings r
     WHERE r.call_id = c.id ORDER BY (r.source = 'call') DESC, r.created_at DESC LIMIT 1) AS recording,
  (SELECT json_build_object('source', a.source, 'medium', a.medium, 'campaign', a.campaign, 'keyword', a.keyword, 'clickId', a.click_id,
     'landingPage', a.landing_page, 'trackingNumber', a.tracking_number, 'method', a.method, 'confidence', a.confidence::float)
     FROM call_attributions a WHERE a.call_id = c.id AND a.is_primary) AS attribution
  FROM calls c`;

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/** The contract's Call: our own fields, never a provider's. */
function toCall(r: Record<string, unknown>) {
  return {
    id: r.id,
    providerCallId: r.provider_call_id,
    direction: r.direction,
    from: r.from_raw,
    to: r.to_raw,
    status: r.status,
    outcome: r.outcome,
    missedReason: r.missed_reason,
    answeredBy: r.answered_by,
    startedAt: iso(r.started_at as Date),
    answeredAt: iso(r.answered_at as Date | null),
    endedAt: iso(r.ended_at as Date | null),
    durationSec: r.duration_sec,
    contactId: r.contact_id,
    dealId: r.deal_id,
    isFirstTimeCaller: r.is_first_time_caller,
    disposition: r.disposition,
    recording: r.recording ?? null,
    attribution: r.attribution ?? null,
  };
}

/** Read side of calls: newest first, filterable, keyset-paginated. */
export class CallsQuery {
  constructor(private readonly ds: DataSource) {}

  async list(input: unknown) {
    const f = listCallsQuery.parse(input);
    const where: string[] = ["TRUE"];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace("?", `$${params.length}`));
    };
    if (f.contactId) add("c.contact_id = ?", f.contactId);
    if (f.outcome) add("c.outcome = ?", f.outcome);
    if (f.direction) add("c.direction = ?", f.direction);
    if (f.status) add("c.status = ?", f.status);
    if (f.from) add("c.started_at >= ?::timestamptz", f.from);
    if (f.to) add("c.started_at < ?::timestamptz", f.to);
    const after = decodeCursor(f.cursor);
    if (after) {
      params.push(after.at, after.id);
      where.push(`(c.started_at, c.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(f.limit + 1);
    const rows = await this.ds.query(`${SELECT} WHERE ${where.join(" AND ")} ORDER BY c.started_at DESC, c.id DESC LIMIT $${params.length}`, params);
    const last = rows[f.limit - 1];
    return { items: rows.slice(0, f.limit).map(toCall), nextCursor: rows.length > f.limit && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null };
  }

  async get(id: string) {
    if (!z.uuid().safeParse(id).success) throw new AppError("not_found", "No such call");
    const [row] = await this.ds.query(`${SELECT} WHERE c.id = $1`, [id]);
    if (!row) throw new AppError("not_found", "No such call");
    return toCall(row);
  }
}
