import type { EntityManager } from "typeorm";

/** A session shown the called number while the phone rang, a lease that ended within this, still counts (weakly). */
const RECENT_LEASE_HOURS = 24;
const RECENT_LEASE_CONFIDENCE = 0.3;
/** A pool number called with no session in sight, attributed to the number's own labels. */
const POOL_DEFAULT_CONFIDENCE = 0.2;
/** Candidates kept when a number was shown to several sessions at once. */
const MAX_CANDIDATES = 10;

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

interface AttributionRow {
  method: "static" | "session";
  confidence: number;
  source: string | null;
  medium: string | null;
  campaign: string | null;
  keyword: string | null;
  clickId: string | null;
  clickIdType: string | null;
  landingPage: string | null;
  referrer: string | null;
  sessionId: string | null;
}

/**
 * Attributes a new inbound call from the number it reached: a static number's fixed labels, or
 * the website sessions that were shown that pool (or overflow) number when the phone rang.
 * When several sessions were, each is kept as a candidate with its share of the confidence
 * instead of guessing; the most recently active one is primary.
 */
export class CallAttributionService {
  /** Returns the primary attribution's id, or null when the number tells nothing. */
  async attributeCall(em: EntityManager, call: { callId: string; calledNumber: string; at: Date }): Promise<string | null> {
    const rows = await this.fromStaticNumber(em, call.calledNumber) ?? (await this.fromSessions(em, call.calledNumber, call.at));
    if (rows.length === 0) return null;
    let primaryId: string | null = null;
    for (const [i, a] of rows.entries()) {
      const [row] = await em.query(
        `INSERT INTO call_attributions (call_id, is_primary, method, confidence, source, medium, campaign, keyword,
           click_id, click_id_type, landing_page, referrer, tracking_number, session_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (call_id) WHERE is_primary DO NOTHING RETURNING id`,
        [call.callId, i === 0, a.method, a.confidence.toFixed(3), a.source, a.medium, a.campaign, a.keyword, a.clickId, a.clickIdType, a.landingPage, a.referrer, call.calledNumber, a.sessionId],
      );
      if (i === 0) {
        if (!row) return null; // already attributed (a redelivery): nothing to add
        primaryId = row.id;
      }
    }
    const primarySession = rows[0]!.sessionId;
    // The visitor called: their lease is renewed, so a second call soon after lands on them again.
    if (primarySession) {
      await em.query(
        `UPDATE tracking_sessions s SET lease_expires_at = GREATEST(s.lease_expires_at, now() + make_interval(mins => p.hold_minutes))
         FROM tracking_pools p WHERE p.id = s.pool_id AND s.id = $1`,
        [primarySession],
      );
      await em.query(
        `UPDATE tracking_numbers n SET leased_until = GREATEST(n.leased_until, now() + make_interval(mins => p.hold_minutes))
         FROM tracking_pools p WHERE p.id = n.pool_id AND n.leased_session_id = $1`,
        [primarySession],
      );
    }
    return primaryId;
  }

  private async fromStaticNumber(em: EntityManager, number: string): Promise<AttributionRow[] | null> {
    const [n] = await em.query(`SELECT source, medium, campaign FROM tracking_numbers WHERE number = $1 AND pool_id IS NULL`, [number]);
    if (!n) return null;
    return [{ ...EMPTY, method: "static", confidence: 1, source: n.source, medium: n.medium, campaign: n.campaign }];
  }

  private async fromSessions(em: EntityManager, number: string, at: Date): Promise<AttributionRow[]> {
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
      return live.map((s) => fromSession(s, confidence));
    }
    const [recent]: SessionCandidate[] = await em.query(
      `SELECT ${SESSION_FIELDS}, false AS exclusive FROM tracking_sessions s
       WHERE s.number = $1 AND s.created_at <= $2 AND s.lease_expires_at < $2
         AND s.lease_expires_at >= $2::timestamptz - make_interval(hours => ${RECENT_LEASE_HOURS})
       ORDER BY s.lease_expires_at DESC LIMIT 1`,
      [number, at],
    );
    if (recent) return [fromSession(recent, RECENT_LEASE_CONFIDENCE)];
    const [pooled] = await em.query(
      `SELECT source, medium, campaign FROM tracking_numbers WHERE number = $1 AND pool_id IS NOT NULL AND source IS NOT NULL`,
      [number],
    );
    return pooled ? [{ ...EMPTY, method: "static", confidence: POOL_DEFAULT_CONFIDENCE, source: pooled.source, medium: pooled.medium, campaign: pooled.campaign }] : [];
  }
}

const SESSION_FIELDS = `s.id, s.utm_source, s.utm_medium, s.utm_campaign, s.utm_term, s.click_id, s.click_id_type, s.landing_page, s.referrer`;

const EMPTY = { keyword: null, clickId: null, clickIdType: null, landingPage: null, referrer: null, sessionId: null } as const;

const fromSession = (s: SessionCandidate, confidence: number): AttributionRow => ({
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
});
