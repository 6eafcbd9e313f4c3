import type { DataSource } from "typeorm";
import { z } from "zod";
import { AppError } from "../../platform/errors";
import { dateRange, dateRangeFields } from "../../platform/http/date-range";

const format = { format: z.enum(["json", "csv"]).default("json") };
export const funnelQuerySchema = z.object({ ...dateRangeFields, pipelineId: z.uuid().optional(), ...format }).strict();
export const periodQuerySchema = z.object({ ...dateRangeFields, ...format }).strict();

export const FUNNEL_COLUMNS = ["position", "stage", "kind", "deals", "conversion"];
export const AGENT_COLUMNS = ["agentId", "name", "answered", "missedWhileRung", "avgHandleSec", "callBacksDone", "callBacksWithinSla", "medianTimeToCallBackSec"];
export const MISSED_COLUMNS = ["missed", "withinSla", "late", "never", "open"];

const ratio = (n: number, d: number) => (d === 0 ? 0 : Math.round((n / d) * 10_000) / 10_000);
const period = (from: Date, to: Date) => ({ from: from.toISOString(), to: to.toISOString() });

/** What supervisors and sales managers read: the funnel, how agents do, how missed calls are followed up. */
export class OperationsReports {
  constructor(private readonly ds: DataSource) {}

  /**
   * Deals opened in the period in one pipeline (default: the default one), and how many reached
   * each stage: an open stage is reached by every deal that got that far (skipped stages
   * included); the won and lost stages by the deals now won or lost.
   */
  async funnel(query: unknown) {
    const q = funnelQuerySchema.parse(query);
    const { from, to } = dateRange(q);
    const [pipeline] = await this.ds.query(`SELECT id, name FROM pipelines WHERE ${q.pipelineId ? "id = $1" : "is_default"}`, q.pipelineId ? [q.pipelineId] : []);
    if (!pipeline) throw new AppError("not_found", "No such pipeline");
    const rows = await this.ds.query(
      `WITH d AS (
         SELECT d.id, d.status, max(s.position) FILTER (WHERE s.kind = 'open') AS furthest
         FROM deals d JOIN deal_stage_history h ON h.deal_id = d.id JOIN pipeline_stages s ON s.id = h.to_stage_id
         WHERE d.pipeline_id = $1 AND d.created_at >= $2 AND d.created_at < $3 GROUP BY d.id)
       SELECT s.position, s.name AS stage, s.kind,
         (SELECT count(*) FROM d WHERE CASE s.kind WHEN 'open' THEN d.furthest >= s.position OR d.status <> 'open' ELSE d.status = s.kind END)::int AS deals
       FROM pipeline_stages s WHERE s.pipeline_id = $1 ORDER BY s.position`,
      [pipeline.id, from, to],
    );
    const [total] = await this.ds.query(`SELECT count(*)::int AS n FROM deals WHERE pipeline_id = $1 AND created_at >= $2 AND created_at < $3`, [pipeline.id, from, to]);
    return {
      ...period(from, to),
      pipeline: { id: pipeline.id, name: pipeline.name },
      deals: total.n,
      items: rows.map((r: { position: number; stage: string; kind: string; deals: number }) => ({ ...r, conversion: ratio(r.deals, total.n) })),
    };
  }

  /** Per agent over the period: calls answered, rung but not answered, handle time, call-backs and how fast. */
  async agents(query: unknown) {
    const q = periodQuerySchema.parse(query);
    const { from, to } = dateRange(q);
    const rows = await this.ds.query(
      `SELECT u.id AS agent_id, u.name,
         (SELECT count(*) FROM calls c WHERE c.answered_by = u.id AND c.direction = 'inbound' AND c.started_at >= $1 AND c.started_at < $2)::int AS answered,
         (SELECT count(DISTINCT l.call_id) FROM call_legs l JOIN calls c ON c.id = l.call_id
            WHERE l.user_id = u.id AND l.answered_at IS NULL AND c.direction = 'inbound' AND c.started_at >= $1 AND c.started_at < $2
              AND c.answered_by IS DISTINCT FROM u.id)::int AS missed_while_rung,
         (SELECT round(avg(l.duration_sec)) FROM call_legs l JOIN calls c ON c.id = l.call_id
            WHERE l.user_id = u.id AND l.answered_at IS NOT NULL AND l.duration_sec IS NOT NULL AND c.direction = 'inbound'
              AND c.started_at >= $1 AND c.started_at < $2)::int AS avg_handle_sec,
         (SELECT count(*) FROM tasks t WHERE t.completed_by = u.id AND t.type = 'call_back' AND t.status = 'done' AND t.completed_at >= $1 AND t.completed_at < $2)::int AS call_backs_done,
         (SELECT count(*) FROM tasks t WHERE t.completed_by = u.id AND t.type = 'call_back' AND t.status = 'done' AND t.completed_at >= $1 AND t.completed_at < $2
            AND t.completed_at <= t.due_at)::int AS call_backs_within_sla,
         (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY t.time_to_callback_sec) FROM tasks t
            WHERE t.completed_by = u.id AND t.type = 'call_back' AND t.status = 'done' AND t.completed_at >= $1 AND t.completed_at < $2)::int AS median_time_to_call_back_sec
       FROM users u WHERE u.role = 'agent' ORDER BY u.name, u.id LIMIT 1000`,
      [from, to],
    );
    return {
      ...period(from, to),
      items: rows.map((r: Record<string, unknown>) => ({
        agentId: r.agent_id,
        name: r.name,
        answered: r.answered,
        missedWhileRung: r.missed_while_rung,
        avgHandleSec: r.avg_handle_sec,
        callBacksDone: r.call_backs_done,
        callBacksWithinSla: r.call_backs_within_sla,
        medianTimeToCallBackSec: r.median_time_to_call_back_sec,
      })),
    };
  }

  /**
   * Missed inbound calls of the period and how their call-back went: done within the SLA (by
   * the task's due time), done late, never (the task was canceled, or there was none: a
   * withheld number), or still open.
   */
  async missedCalls(query: unknown) {
    const q = periodQuerySchema.parse(query);
    const { from, to } = dateRange(q);
    const [r] = await this.ds.query(
      `SELECT count(*)::int AS missed,
         count(*) FILTER (WHERE t.status = 'done' AND t.completed_at <= t.due_at)::int AS within_sla,
         count(*) FILTER (WHERE t.status = 'done' AND t.completed_at > t.due_at)::int AS late,
         count(*) FILTER (WHERE t.id IS NULL OR t.status = 'canceled')::int AS never,
         count(*) FILTER (WHERE t.status = 'open')::int AS open
       FROM calls c
       LEFT JOIN LATERAL (SELECT id, status, completed_at, due_at FROM tasks t
                          WHERE t.type = 'call_back' AND c.id = ANY (t.missed_call_ids) ORDER BY t.created_at LIMIT 1) t ON true
       WHERE c.direction = 'inbound' AND c.outcome = 'missed' AND c.started_at >= $1 AND c.started_at < $2`,
      [from, to],
    );
    const item = { missed: r.missed, withinSla: r.within_sla, late: r.late, never: r.never, open: r.open };
    return { ...period(from, to), items: [item], withinSlaRate: ratio(item.withinSla, item.missed) };
  }
}
