import type { DataSource } from "typeorm";
import { z } from "zod";
import { dateRange, dateRangeFields } from "../../platform/http/date-range";
import { rebuildReportColumns } from "./report-columns";

export const GROUP_BY = ["source", "medium", "campaign", "keyword"] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export const attributionQuerySchema = z
  .object({ ...dateRangeFields, groupBy: z.enum(GROUP_BY).default("source"), format: z.enum(["json", "csv"]).default("json") })
  .strict();

export const poolQuerySchema = z.object({ ...dateRangeFields, format: z.enum(["json", "csv"]).default("json") }).strict();

/** Calls with no attribution, or with no value in the grouped field. */
export const UNATTRIBUTED = "(none)";

export interface AttributionRow {
  key: string;
  calls: number;
  uniqueCallers: number;
  firstTimeCallers: number;
  answered: number;
  missed: number;
  deals: number;
  won: number;
  revenue: number;
  /** deals / calls and won / calls, 0..1 rounded to 4 places. */
  callToDeal: number;
  callToWon: number;
}

export const ATTRIBUTION_COLUMNS = ["key", "calls", "uniqueCallers", "firstTimeCallers", "answered", "missed", "deals", "won", "revenue", "callToDeal", "callToWon"];

export interface PoolRow {
  pool: string;
  size: number;
  peakLeased: number;
  /** Most sessions wanting a number at once (leased, overflow and shared alike). */
  peakDemand: number;
  exhaustions: number;
  /** Numbers that keep peak demand at 75% of the pool, the usual sizing rule. */
  recommendedSize: number;
}

export const POOL_COLUMNS = ["pool", "size", "peakLeased", "peakDemand", "exhaustions", "recommendedSize"];

const TARGET_UTILISATION = 0.75;
/** Groups listed at most (the busiest); totals always cover every call. */
const MAX_GROUPS = 1000;


const ratio = (n: number, d: number) => (d === 0 ? 0 : Math.round((n / d) * 10_000) / 10_000);

/** What marketers read: calls and revenue by where they came from, and whether pools are big enough. */
export class MarketingReports {
  constructor(private readonly ds: DataSource) {}

  /**
   * Inbound calls that started in the period, grouped by their primary attribution. Deals are
   * those the calls opened; revenue is what those deals won (at any time since).
   */
  async attribution(query: unknown): Promise<{ from: string; to: string; groupBy: GroupBy; items: AttributionRow[]; totals: Omit<AttributionRow, "key"> }> {
    const q = attributionQuerySchema.parse(query);
    const { from, to } = dateRange(q);
    // Columns come from the enum above, never from the request text itself. One scan of calls:
    // a call is a new unique caller for the period when the caller's previous call in the same
    // group is missing or older than the period (see report-columns.ts).
    const column = `c.attr_${q.groupBy}`;
    const prev = `c.prev_${q.groupBy}_at`;
    const key = `COALESCE(${column}, '${UNATTRIBUTED}')`;
    type Row = Record<string, number | string>;
    const [callRows, dealRows] = (await Promise.all([
      this.ds.query(
        `SELECT ${key} AS key,
           count(*)::int AS calls,
           count(*) FILTER (WHERE c.caller_key IS NULL OR ${prev} IS NULL OR ${prev} < $1)::int AS unique_in_group,
           count(*) FILTER (WHERE c.caller_key IS NULL OR c.prev_call_at IS NULL OR c.prev_call_at < $1)::int AS unique_overall,
           count(*) FILTER (WHERE c.is_first_time_caller)::int AS first_time_callers,
           count(*) FILTER (WHERE c.outcome = 'answered')::int AS answered,
           count(*) FILTER (WHERE c.outcome = 'missed')::int AS missed
         FROM calls c
         WHERE c.direction = 'inbound' AND c.started_at >= $1 AND c.started_at < $2
         GROUP BY 1`,
        [from, to],
      ),
      // Deals opened by calls in the period, grouped by the labels of the attribution they carry
      // (the call's primary one), which the deal keeps: one read of deals_opened_by_call_idx.
      this.ds.query(
        `SELECT COALESCE(d.attr_${q.groupBy}, '${UNATTRIBUTED}') AS key, count(*)::int AS deals,
           count(*) FILTER (WHERE d.status = 'won')::int AS won,
           COALESCE(sum(d.amount) FILTER (WHERE d.status = 'won'), 0)::float8 AS revenue
         FROM deals d
         WHERE d.source_call_id IS NOT NULL AND d.created_at >= $1 AND d.created_at < $2
         GROUP BY 1`,
        [from, to],
      ),
    ])) as [Row[], Row[]];
    // A deal opened just inside the period by a call just outside it still counts: keys of both.
    const callsByKey = new Map(callRows.map((r) => [String(r.key), r]));
    const dealsByKey = new Map(dealRows.map((r) => [String(r.key), r]));
    const all = [...new Set([...callsByKey.keys(), ...dealsByKey.keys()])].map((key) => {
      const r = callsByKey.get(key);
      const d = dealsByKey.get(key);
      return withRatios({
        key,
        calls: Number(r?.calls ?? 0),
        uniqueCallers: Number(r?.unique_in_group ?? 0),
        firstTimeCallers: Number(r?.first_time_callers ?? 0),
        answered: Number(r?.answered ?? 0),
        missed: Number(r?.missed ?? 0),
        deals: Number(d?.deals ?? 0),
        won: Number(d?.won ?? 0),
        revenue: Number(d?.revenue ?? 0),
      });
    });
    const sum = (k: keyof Omit<AttributionRow, "key">) => all.reduce((n, r) => n + r[k], 0);
    // A caller is unique overall when their previous call of any group is outside the period.
    const { key: _key, ...totals } = withRatios({
      key: "",
      calls: sum("calls"),
      uniqueCallers: callRows.reduce((n, r) => n + Number(r.unique_overall), 0),
      firstTimeCallers: sum("firstTimeCallers"),
      answered: sum("answered"),
      missed: sum("missed"),
      deals: sum("deals"),
      won: sum("won"),
      revenue: Math.round(sum("revenue") * 100) / 100,
    });
    const items = all.sort((a, b) => b.calls - a.calls || a.key.localeCompare(b.key)).slice(0, MAX_GROUPS);
    return { from: from.toISOString(), to: to.toISOString(), groupBy: q.groupBy, items, totals };
  }

  /** Recomputes the report columns of every inbound call (after a bulk import or a manual repair). */
  async rebuildReportColumns(): Promise<void> {
    await this.ds.transaction((em) => rebuildReportColumns(em));
  }

  /** Per pool over the period: how many numbers were leased at once at most, and how many it needs. */
  async pools(query: unknown): Promise<{ from: string; to: string; items: PoolRow[] }> {
    const q = poolQuerySchema.parse(query);
    const { from, to } = dateRange(q);
    const rows = await this.ds.query(
      `WITH s AS (
         SELECT pool_id, created_at, lease_expires_at, (tracking_number_id IS NOT NULL AND NOT is_overflow AND NOT is_shared) AS leased
         FROM tracking_sessions WHERE created_at < $2 AND lease_expires_at > $1
       ), ev AS (
         SELECT pool_id, GREATEST(created_at, $1) AS t, 1 AS d, leased FROM s
         UNION ALL SELECT pool_id, lease_expires_at, -1, leased FROM s
       ), run AS (
         SELECT pool_id,
           sum(d) OVER (PARTITION BY pool_id ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS demand,
           sum(CASE WHEN leased THEN d ELSE 0 END) OVER (PARTITION BY pool_id ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS leased
         FROM ev
       ), peaks AS (SELECT pool_id, max(demand)::int AS peak_demand, max(leased)::int AS peak_leased FROM run GROUP BY pool_id)
       SELECT p.name,
         (SELECT count(*) FROM tracking_numbers n WHERE n.pool_id = p.id AND n.is_active)::int AS size,
         COALESCE(k.peak_leased, 0) AS peak_leased, COALESCE(k.peak_demand, 0) AS peak_demand,
         (SELECT count(*) FROM tracking_pool_exhaustions e WHERE e.pool_id = p.id AND e.occurred_at >= $1 AND e.occurred_at < $2)::int AS exhaustions
       FROM tracking_pools p LEFT JOIN peaks k ON k.pool_id = p.id ORDER BY p.name`,
      [from, to],
    );
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      items: rows.map((r: Record<string, number | string>) => ({
        pool: String(r.name),
        size: Number(r.size),
        peakLeased: Number(r.peak_leased),
        peakDemand: Number(r.peak_demand),
        exhaustions: Number(r.exhaustions),
        recommendedSize: Math.max(1, Math.ceil(Number(r.peak_demand) / TARGET_UTILISATION)),
      })),
    };
  }
}

function withRatios(r: Omit<AttributionRow, "callToDeal" | "callToWon">): AttributionRow {
  return { ...r, callToDeal: ratio(r.deals, r.calls), callToWon: ratio(r.won, r.calls) };
}
