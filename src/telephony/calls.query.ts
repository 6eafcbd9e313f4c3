import type { DataSource } from "typeorm";
import { z } from "zod";
import { AppError } from "../platform/errors";
import { cursorAt, KeysetQuery, pageFields, toPage } from "../platform/db/keyset";
import { isUuid } from "../platform/uuid";

export const listCallsQuery = z
  .object({
    contactId: z.uuid().optional(),
    outcome: z.enum(["answered", "missed"]).optional(),
    direction: z.enum(["inbound", "outbound"]).optional(),
    status: z.enum(["ringing", "in-progress", "completed"]).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    /** Only calls with a playable recording (the supervisors' recordings list). */
    recorded: z.enum(["true", "false"]).optional(),
    ...pageFields(),
  })
  .strict();

const SELECT = `SELECT c.id, c.provider_call_id, c.direction, c.from_raw, c.to_raw, c.status, c.outcome, c.missed_reason,
  c.answered_by, c.started_at, c.answered_at, c.ended_at, c.duration_sec, c.contact_id, c.deal_id, c.is_first_time_caller, c.disposition,
  (SELECT ct.name FROM contacts ct WHERE ct.id = c.contact_id) AS contact_name,
  ${cursorAt("c.started_at")} AS cursor_at,
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
    contactName: r.contact_name ?? null,
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
    const q = new KeysetQuery();
    if (f.contactId) q.where("c.contact_id = ?", f.contactId);
    if (f.outcome) q.where("c.outcome = ?", f.outcome);
    if (f.direction) q.where("c.direction = ?", f.direction);
    if (f.status) q.where("c.status = ?", f.status);
    if (f.from) q.where("c.started_at >= ?::timestamptz", f.from);
    if (f.to) q.where("c.started_at < ?::timestamptz", f.to);
    if (f.recorded) {
      q.where(`${f.recorded === "true" ? "" : "NOT "}EXISTS (SELECT 1 FROM recordings r WHERE r.call_id = c.id AND r.status = 'completed' AND r.provider = 'twilio')`);
    }
    q.after(f.cursor, "c.started_at", "c.id", "<");
    const rows = await this.ds.query(`${SELECT} WHERE ${q.whereSql} ORDER BY c.started_at DESC, c.id DESC LIMIT ${q.limitSql(f.limit)}`, q.params);
    return toPage(rows, f.limit, toCall);
  }

  async get(id: string) {
    if (!isUuid(id)) throw new AppError("not_found", "No such call");
    const [row] = await this.ds.query(`${SELECT} WHERE c.id = $1`, [id]);
    if (!row) throw new AppError("not_found", "No such call");
    return toCall(row);
  }
}
