import type { EntityManager } from "typeorm";
import { write } from "../../platform/db/deferred-writes";
import { prepared } from "../../platform/db/prepared";
import type { Rider } from "../../platform/db/rider";
import { takeAdvisoryLocks } from "../../platform/db/sql";
import type { ContactsService, DealsService } from "../../crm";
import type { ProviderCall } from "../providers/provider-call";
import type { AttributionFields, AttributionLabels } from "./attribution-fields";
import { newCallReport, recordAttributionChange, refreshCallerChain, type NewCallReport } from "../reports/report-columns";

/** A session shown the called number while the phone rang, a lease that ended within this, still counts (weakly). */
const RECENT_LEASE_HOURS = 24;
const RECENT_LEASE_CONFIDENCE = 0.3;
/** A pool number called with no session in sight, attributed to the number's own labels. */
const POOL_DEFAULT_CONFIDENCE = 0.2;
/** Candidates kept when a number was shown to several sessions at once. */
const MAX_CANDIDATES = 10;
/** How far apart a tracker's start time and ours may be for caller + number to match. */
export const PROVIDER_MATCH_MINUTES = 15;

interface SessionCandidate {
  id: string;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  utm_term: string | null;
  click_id: string | null;
  click_id_type: string | null;
  landing_page: string | null;
  referrer: string | null;
  exclusive: boolean;
}

interface Attribution extends AttributionFields {
  method: "static" | "session" | "provider";
  confidence: number;
  sessionId: string | null;
  provider: string | null;
  trackingNumber: string | null;
}

/** What attributeCall's first read looks a call up by. */
type CallLookup = Pick<NewInboundCall, "providerCallId" | "caller" | "calledNumber" | "at">;

export interface NewInboundCall {
  callId: string;
  /** The telephony provider's id of the call. */
  providerCallId: string;
  /** The number dialled (E.164): a static or pool number, or where a tracker forwarded to. */
  calledNumber: string | null;
  caller: string | null;
  at: Date;
  contactId: string | null;
  /** The contact was created by this call: no other call of this caller exists yet. */
  newContact: boolean;
}

/**
 * Where a call came from, stored per call in call_attributions with method and confidence:
 * - a static number's fixed labels;
 * - the website sessions shown the called pool (or overflow) number while the phone rang; when
 *   several were, each is a candidate with its share of the confidence, the most recently
 *   active one primary;
 * - a call-tracking provider's report of the call, which becomes primary whichever arrives
 *   first (the others stay as candidates).
 * The contact's first and last touch and the deal the call opened point at the primary row.
 */
export class CallAttributionService {
  constructor(
    private readonly contacts: ContactsService,
    private readonly deals: DealsService,
  ) {}

  /**
   * The advisory locks that serialise a new inbound call with a tracker's report of it (see
   * lockMatching). The ingest takes them with the call's upsert, before `attributeCall`.
   */
  lockKeys(caller: string | null, providerCallId: string): string[] {
    return matchingKeys(caller, providerCallId);
  }

  /**
   * Attributes a call when it is first seen (inside the ingest's transaction, which holds
   * `lockKeys`' locks since an earlier statement, so this one's snapshot sees a report that
   * committed while they were awaited). Returns the call's report columns, which the ingest
   * writes with the call itself (one row version of a heavily indexed table instead of two),
   * then calls `afterCallSaved`.
   */
  async attributeCall(em: EntityManager, call: NewInboundCall, looked?: unknown): Promise<NewCallReport> {
    // The called number's labels and a tracker's unmatched report in one round trip: `looked`
    // when they rode in the ingest's contact statement (`lookupRider`), else asked here.
    const found = looked !== undefined ? (looked as NumberAndReportRow | null) : ((await em.query(NUMBER_AND_REPORT, this.lookupParams(call))) as NumberAndReportRow[])[0];
    const ours = call.calledNumber && found?.found ? await this.fromOurNumber(em, call.calledNumber, found, call.at) : [];
    const reported = found?.report ? { id: found.report.id as string, data: providerCallOf(found.report) } : null;
    const rows = reported ? [fromProvider(reported.data), ...ours] : ours;
    const primaryId = rows.length > 0 ? await this.insert(em, call.callId, rows) : null;
    if (primaryId) {
      if (reported) await em.query(`UPDATE tracking_provider_calls SET call_id = $2 WHERE id = $1`, [reported.id, call.callId]);
      // A new call's delivery reads neither the lease nor its deal again: both are written with
      // its closing statement (DeferredWrites.later). The contact's touch is not: the contact's row lock
      // must come before the call-back task's, as in every other transaction that takes both.
      await this.renewLease(em, rows[0]!.sessionId);
      await this.touch(em, call.callId, call.contactId, { ...rows[0]!, id: primaryId }, { withClosingStatement: true });
    }
    return newCallReport(call.contactId ?? call.caller, primaryId ? rows[0]! : null, { onlyCall: call.newContact });
  }

  /**
   * attributeCall's first read, to ride in another statement of the ingest's that runs after
   * the locks (CallerRecordsService.forCall): the same snapshot guarantee, one round trip less.
   * Its row goes back to attributeCall as `looked`.
   */
  lookupRider(call: CallLookup): Rider {
    return { name: "attribution.number_and_report", sql: NUMBER_AND_REPORT, params: this.lookupParams(call) };
  }

  private lookupParams(call: CallLookup): unknown[] {
    return [call.providerCallId, call.caller, call.calledNumber, call.at];
  }

  /** Once the new call is saved with its report columns: its caller's chain of calls. */
  async afterCallSaved(em: EntityManager, report: NewCallReport): Promise<void> {
    if (report.refreshChain && report.callerKey) await refreshCallerChain(em, report.callerKey);
  }

  /**
   * A tracker's report for a call we already have: it becomes the primary attribution. The row
   * the contact and deal point at is rewritten in place (its old values kept as a candidate),
   * so they follow (the deal's copy of the labels and the call's report columns are rewritten
   * with it); a later report from the same tracker updates it.
   */
  async applyProviderReport(em: EntityManager, callId: string, report: ProviderCall): Promise<void> {
    const data = fromProvider(report);
    const [primary] = await em.query(`SELECT id, method, provider FROM call_attributions WHERE call_id = $1 AND is_primary FOR UPDATE`, [callId]);
    if (!primary) {
      const primaryId = await this.insert(em, callId, [data]);
      const [call] = await em.query(`SELECT contact_id FROM calls WHERE id = $1`, [callId]);
      if (primaryId) await this.touch(em, callId, call?.contact_id ?? null, { ...data, id: primaryId });
      await recordAttributionChange(em, callId, data);
      return;
    }
    if (primary.method !== "provider") {
      await em.query(
        `INSERT INTO call_attributions (call_id, is_primary, method, confidence, source, medium, campaign, keyword, click_id, click_id_type,
           landing_page, referrer, tracking_number, session_id, provider)
         SELECT call_id, false, method, confidence, source, medium, campaign, keyword, click_id, click_id_type,
           landing_page, referrer, tracking_number, session_id, provider FROM call_attributions WHERE id = $1`,
        [primary.id],
      );
    } else if (primary.provider !== report.provider) {
      // Two trackers on one call: the first keeps primary, the second is a candidate.
      await this.insert(em, callId, [data], { primary: false });
      return;
    }
    await em.query(
      `UPDATE call_attributions SET method = 'provider', confidence = 1, source = $2, medium = $3, campaign = $4, keyword = $5,
         click_id = $6, click_id_type = $7, landing_page = $8, referrer = $9, tracking_number = $10, session_id = NULL, provider = $11
       WHERE id = $1`,
      [primary.id, data.source, data.medium, data.campaign, data.keyword, data.clickId, data.clickIdType, data.landingPage, data.referrer, data.trackingNumber, data.provider],
    );
    // The contact's touches point at the row and follow it; the deal keeps a copy of its labels.
    await this.deals.attributeOpenedBy(em, callId, { ...data, id: primary.id });
    await recordAttributionChange(em, callId, data);
  }

  /** Returns the primary row's id, or null when the call already had one. */
  private async insert(em: EntityManager, callId: string, rows: Attribution[], opts = { primary: true }): Promise<string | null> {
    let primaryId: string | null = null;
    for (const [i, a] of rows.entries()) {
      const isPrimary = opts.primary && i === 0;
      const [row] = await em.query(
        `INSERT INTO call_attributions (call_id, is_primary, method, confidence, source, medium, campaign, keyword,
           click_id, click_id_type, landing_page, referrer, tracking_number, session_id, provider)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (call_id) WHERE is_primary DO NOTHING RETURNING id`,
        [callId, isPrimary, a.method, a.confidence.toFixed(3), a.source, a.medium, a.campaign, a.keyword, a.clickId, a.clickIdType, a.landingPage, a.referrer, a.trackingNumber, a.sessionId, a.provider],
      );
      if (isPrimary) {
        if (!row) return null;
        primaryId = row.id;
      }
    }
    return primaryId;
  }

  private async touch(em: EntityManager, callId: string, contactId: string | null, primary: AttributionLabels & { id: string }, opts: { withClosingStatement?: boolean } = {}): Promise<void> {
    if (contactId) await this.contacts.recordTouch(em, contactId, primary.id);
    await this.deals.attributeOpenedBy(em, callId, primary, opts);
  }

  /** The visitor called: their lease is renewed, so a second call soon after lands on them again. */
  private async renewLease(em: EntityManager, sessionId: string | null): Promise<void> {
    if (!sessionId) return;
    // Two statements: each becomes a step of the closing statement, which cannot nest a write in a step.
    await write(em, { sql: RENEW_SESSION_LEASE, params: [sessionId] }, { withClosingStatement: true });
    await write(em, { sql: RENEW_NUMBER_LEASE, params: [sessionId] }, { withClosingStatement: true });
  }

  /** A static number's labels, or the sessions shown a pool or overflow number; nothing for any other number. */
  private async fromOurNumber(em: EntityManager, number: string, n: NumberAndReportRow, at: Date): Promise<Attribution[]> {
    if (n.pool_id === null) return [{ ...EMPTY, method: "static", confidence: 1, source: n.source, medium: n.medium, campaign: n.campaign, trackingNumber: number }];
    return this.fromSessions(em, number, at);
  }

  private async fromSessions(em: EntityManager, number: string, at: Date): Promise<Attribution[]> {
    const live: SessionCandidate[] = await em.query(
      `SELECT ${SESSION_FIELDS}, (s.tracking_number_id IS NOT NULL AND NOT s.is_overflow AND NOT s.is_shared) AS exclusive
       FROM tracking_sessions s
       WHERE s.number = $1 AND s.created_at <= $2 AND s.lease_expires_at >= $2
       ORDER BY s.last_seen_at DESC LIMIT ${MAX_CANDIDATES}`,
      [number, at],
    );
    if (live.length > 0) {
      // One exclusive lease is certain; a number shown to several is split evenly between them,
      // and an overflow or shared number seen by one session alone is still a coin toss.
      const confidence = live.length === 1 && live[0]!.exclusive ? 1 : Math.min(1 / live.length, 0.5);
      return live.map((s) => fromSession(s, confidence, number));
    }
    const [recent]: SessionCandidate[] = await em.query(
      `SELECT ${SESSION_FIELDS}, false AS exclusive FROM tracking_sessions s
       WHERE s.number = $1 AND s.created_at <= $2 AND s.lease_expires_at < $2
         AND s.lease_expires_at >= $2::timestamptz - make_interval(hours => ${RECENT_LEASE_HOURS})
       ORDER BY s.lease_expires_at DESC LIMIT 1`,
      [number, at],
    );
    if (recent) return [fromSession(recent, RECENT_LEASE_CONFIDENCE, number)];
    const [pooled] = await em.query(
      `SELECT source, medium, campaign FROM tracking_numbers WHERE number = $1 AND pool_id IS NOT NULL AND source IS NOT NULL`,
      [number],
    );
    return pooled
      ? [{ ...EMPTY, method: "static", confidence: POOL_DEFAULT_CONFIDENCE, source: pooled.source, medium: pooled.medium, campaign: pooled.campaign, trackingNumber: number }]
      : [];
  }
}

/**
 * Serialises the two ways a tracker's report and its call can meet (report first, call first)
 * per caller and per call id, so two transactions never both miss each other.
 */
export async function lockMatching(em: EntityManager, caller: string | null, telephonyCallId: string | null): Promise<void> {
  const keys = matchingKeys(caller, telephonyCallId);
  if (keys.length > 0) await takeAdvisoryLocks(em, keys);
}

/** Always caller first, then call id (unnest keeps the array's order), so the two paths cannot deadlock. */
const matchingKeys = (caller: string | null, telephonyCallId: string | null): string[] =>
  [caller && `attribution:caller:${caller}`, telephonyCallId && `attribution:call:${telephonyCallId}`].filter((k): k is string => Boolean(k));

/** The visitor called: their session's lease, and the number it holds, last at least the pool's hold time from now. */
const RENEW_SESSION_LEASE = prepared(
  "tracking.renew_session",
  `UPDATE tracking_sessions s SET lease_expires_at = GREATEST(s.lease_expires_at, now() + make_interval(mins => p.hold_minutes))
   FROM tracking_pools p WHERE p.id = s.pool_id AND s.id = $1`,
);
const RENEW_NUMBER_LEASE = prepared(
  "tracking.renew_number",
  `UPDATE tracking_numbers n SET leased_until = GREATEST(n.leased_until, now() + make_interval(mins => p.hold_minutes))
   FROM tracking_pools p WHERE p.id = n.pool_id AND n.leased_session_id = $1`,
);

const PROVIDER_CALL_COLUMNS = `id, provider, provider_call_id, telephony_call_id, caller, tracking_number, business_number, started_at,
  source, medium, campaign, keyword, click_id, click_id_type, landing_page, referrer, first_call`;

/**
 * The called number ($3) if it is one of ours: a static number's labels or its pool. And a
 * tracker's report not matched yet, by the call's own id ($1), else by caller ($2) + number +
 * time ($4): two lookups, each on its own partial index, so that one prepared (generic) plan
 * fits every value (as one OR, the best index depended on the values).
 */
export const NUMBER_AND_REPORT = prepared(
  "attribution.number_and_report",
  `SELECT n.found, n.pool_id, n.source, n.medium, n.campaign, to_jsonb(r) AS report
   FROM (SELECT 1) AS one
   LEFT JOIN LATERAL (
     SELECT true AS found, pool_id, source, medium, campaign FROM tracking_numbers WHERE number = $3
     UNION ALL SELECT true, id, NULL, NULL, NULL FROM tracking_pools WHERE overflow_number = $3 LIMIT 1) n ON true
   LEFT JOIN LATERAL (
     SELECT ${PROVIDER_CALL_COLUMNS} FROM (
       (SELECT ${PROVIDER_CALL_COLUMNS}, 0 AS match_rank FROM tracking_provider_calls WHERE call_id IS NULL AND telephony_call_id = $1
         ORDER BY abs(extract(epoch FROM started_at - $4::timestamptz)) LIMIT 1)
       UNION ALL
       (SELECT ${PROVIDER_CALL_COLUMNS}, 1 FROM tracking_provider_calls WHERE call_id IS NULL AND caller = $2 AND $3::text IN (tracking_number, business_number)
         AND started_at BETWEEN $4::timestamptz - make_interval(mins => ${PROVIDER_MATCH_MINUTES}) AND $4::timestamptz + make_interval(mins => ${PROVIDER_MATCH_MINUTES})
         ORDER BY abs(extract(epoch FROM started_at - $4::timestamptz)) LIMIT 1)
     ) AS m ORDER BY match_rank LIMIT 1) r ON true`,
);

interface NumberAndReportRow {
  found: boolean | null;
  pool_id: string | null;
  source: string | null;
  medium: string | null;
  campaign: string | null;
  /** The report's row as JSON (started_at a string), or null. */
  report: Record<string, unknown> | null;
}

const SESSION_FIELDS = `s.id, s.utm_source, s.utm_medium, s.utm_campaign, s.utm_term, s.click_id, s.click_id_type, s.landing_page, s.referrer`;

const EMPTY = { keyword: null, clickId: null, clickIdType: null, landingPage: null, referrer: null, sessionId: null, provider: null } as const;

const fromSession = (s: SessionCandidate, confidence: number, number: string): Attribution => ({
  method: "session",
  confidence,
  source: s.utm_source,
  medium: s.utm_medium,
  campaign: s.utm_campaign,
  keyword: s.utm_term,
  clickId: s.click_id,
  clickIdType: s.click_id_type,
  landingPage: s.landing_page,
  referrer: s.referrer,
  sessionId: s.id,
  provider: null,
  trackingNumber: number,
});

const fromProvider = (p: ProviderCall): Attribution => ({
  method: "provider",
  confidence: 1,
  source: p.source,
  medium: p.medium,
  campaign: p.campaign,
  keyword: p.keyword,
  clickId: p.clickId,
  clickIdType: p.clickIdType,
  landingPage: p.landingPage,
  referrer: p.referrer,
  sessionId: null,
  provider: p.provider,
  trackingNumber: p.trackingNumber,
});

function providerCallOf(r: Record<string, unknown>): ProviderCall {
  return {
    provider: r.provider as ProviderCall["provider"],
    providerCallId: r.provider_call_id as string,
    telephonyCallId: r.telephony_call_id as string | null,
    caller: r.caller as string | null,
    trackingNumber: r.tracking_number as string | null,
    businessNumber: r.business_number as string | null,
    startedAt: new Date(r.started_at as string),
    source: r.source as string | null,
    medium: r.medium as string | null,
    campaign: r.campaign as string | null,
    keyword: r.keyword as string | null,
    clickId: r.click_id as string | null,
    clickIdType: r.click_id_type as string | null,
    landingPage: r.landing_page as string | null,
    referrer: r.referrer as string | null,
    firstCall: r.first_call as boolean | null,
  };
}
