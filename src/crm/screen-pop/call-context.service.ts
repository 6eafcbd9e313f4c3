import type { DataSource } from "typeorm";

export interface ScreenPopContent {
  call: { id: string; direction: string; from: string; to: string; status: string; startedAt: string };
  contact: { id: string; name: string; phones: string[]; isNew: boolean; company: string | null; owner: { id: string; name: string } | null } | null;
  openDeals: Array<{ id: string; title: string; stage: string; amount: string | null }>;
  recentCalls: Array<{ id: string; direction: string; startedAt: string; outcome: string | null; durationSec: number | null; hasRecording: boolean }>;
  openTasks: Array<{ id: string; type: string; title: string; dueAt: string; overdue: boolean }>;
  attribution: { source: string | null; medium: string | null; campaign: string | null; keyword: string | null } | null;
  firstTouch: { source: string | null; medium: string | null; campaign: string | null; keyword: string | null } | null;
  /** Whether earlier calls with this contact have recordings (the agent can ask a supervisor). */
  hasEarlierRecordings: boolean;
}

const iso = (d: Date | string) => new Date(d).toISOString();

/**
 * What an agent needs on screen while the phone rings: a minimal card built from our own
 * records, never a provider's body.
 */
export class CallContextService {
  constructor(private readonly ds: DataSource) {}

  async screenPop(callId: string): Promise<ScreenPopContent | undefined> {
    const [call] = await this.ds.query(
      `SELECT id, direction, from_raw, to_raw, status, started_at, contact_id, is_first_time_caller FROM calls WHERE id = $1`,
      [callId],
    );
    if (!call) return undefined;
    const content: ScreenPopContent = {
      call: { id: call.id, direction: call.direction, from: call.from_raw, to: call.to_raw, status: call.status, startedAt: iso(call.started_at) },
      contact: null,
      openDeals: [],
      recentCalls: [],
      openTasks: [],
      attribution: await this.attribution(`SELECT source, medium, campaign, keyword FROM call_attributions WHERE call_id = $1 AND is_primary`, callId),
      firstTouch: null,
      hasEarlierRecordings: false,
    };
    if (!call.contact_id) return content;
    const id = call.contact_id;
    const [contact] = await this.ds.query(
      `SELECT c.id, c.name, c.company, c.first_touch_attribution_id, u.id AS owner_id, u.name AS owner_name
       FROM contacts c LEFT JOIN users u ON u.id = c.owner_id WHERE c.id = $1`,
      [id],
    );
    const phones = await this.ds.query(`SELECT e164 FROM contact_phones WHERE contact_id = $1 ORDER BY created_at`, [id]);
    content.contact = {
      id,
      name: contact.name,
      phones: phones.map((p: { e164: string }) => p.e164),
      isNew: call.is_first_time_caller === true,
      company: contact.company,
      owner: contact.owner_id ? { id: contact.owner_id, name: contact.owner_name } : null,
    };
    content.openDeals = (
      await this.ds.query(
        `SELECT d.id, d.title, s.name AS stage, d.amount FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id
         WHERE d.contact_id = $1 AND d.status = 'open' ORDER BY d.created_at DESC LIMIT 5`,
        [id],
      )
    ).map((d: { id: string; title: string; stage: string; amount: string | null }) => ({ id: d.id, title: d.title, stage: d.stage, amount: d.amount }));
    const recent = await this.ds.query(
      `SELECT c.id, c.direction, c.started_at, c.outcome, c.duration_sec, EXISTS (SELECT 1 FROM recordings r WHERE r.call_id = c.id AND r.status = 'completed') AS has_recording
       FROM calls c WHERE c.contact_id = $1 AND c.id <> $2 ORDER BY c.started_at DESC LIMIT 5`,
      [id, callId],
    );
    content.recentCalls = recent.map((c: { id: string; direction: string; started_at: Date; outcome: string | null; duration_sec: number | null; has_recording: boolean }) => ({
      id: c.id,
      direction: c.direction,
      startedAt: iso(c.started_at),
      outcome: c.outcome,
      durationSec: c.duration_sec,
      hasRecording: c.has_recording,
    }));
    content.hasEarlierRecordings = content.recentCalls.some((c) => c.hasRecording);
    content.openTasks = (
      await this.ds.query(`SELECT id, type, title, due_at FROM tasks WHERE contact_id = $1 AND status = 'open' ORDER BY due_at LIMIT 10`, [id])
    ).map((t: { id: string; type: string; title: string; due_at: Date }) => ({ id: t.id, type: t.type, title: t.title, dueAt: iso(t.due_at), overdue: new Date(t.due_at) < new Date() }));
    if (contact.first_touch_attribution_id) {
      content.firstTouch = await this.attribution(`SELECT source, medium, campaign, keyword FROM call_attributions WHERE id = $1`, contact.first_touch_attribution_id);
    }
    return content;
  }

  /** Calls ringing or in progress, for the supervisors' live board. */
  async liveCalls(): Promise<
    Array<{ id: string; direction: string; from: string; status: string; answeredBy: string | null; startedAt: string; contactName: string | null }>
  > {
    const rows = await this.ds.query(
      `SELECT id, direction, from_raw, status, answered_by, started_at, (SELECT name FROM contacts ct WHERE ct.id = contact_id) AS contact_name FROM calls
       WHERE status <> 'completed' AND started_at > now() - interval '6 hours' ORDER BY started_at LIMIT 500`,
    );
    return rows.map(
      (r: { id: string; direction: string; from_raw: string; status: string; answered_by: string | null; started_at: Date; contact_name: string | null }) => ({
        id: r.id,
        direction: r.direction,
        from: r.from_raw,
        status: r.status,
        answeredBy: r.answered_by,
        startedAt: iso(r.started_at),
        contactName: r.contact_name,
      }),
    );
  }

  private async attribution(sql: string, id: string) {
    const [a] = await this.ds.query(sql, [id]);
    return a ? { source: a.source, medium: a.medium, campaign: a.campaign, keyword: a.keyword } : null;
  }
}
