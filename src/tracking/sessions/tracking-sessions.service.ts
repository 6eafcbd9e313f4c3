import type { DataSource, EntityManager } from "typeorm";
import { z } from "zod";
import { AppError } from "../../platform/errors";
import { returningRows } from "../../platform/db/sql";
import { MAX_URL_LENGTH, touchFrom, type Touch } from "./touch";

export const sessionRequestSchema = z
  .object({
    pool: z.string().trim().min(1).max(100),
    landingPage: z.string().max(MAX_URL_LENGTH),
    referrer: z.string().max(MAX_URL_LENGTH).optional(),
    sessionId: z.uuid().optional(),
    /** The visit the browser remembers as the first (a cookie of tracking.js). */
    firstTouch: z
      .object({ landingPage: z.string().max(MAX_URL_LENGTH), referrer: z.string().max(MAX_URL_LENGTH).optional() })
      .strict()
      .optional(),
  })
  .strict();

export interface Lease {
  sessionId: string;
  /** E.164; null when the pool has no numbers at all (the page keeps its own number). */
  number: string | null;
  expiresAt: string;
  /** The pool had no free number: this is its overflow number, or one shared with another visitor. */
  overflow: boolean;
}

interface PoolRow {
  id: string;
  overflow_number: string | null;
  hold_minutes: number;
}

interface SessionRow {
  id: string;
  pool_id: string;
  tracking_number_id: string | null;
}

/**
 * Leases pool numbers to website sessions (dynamic number insertion). A lease lives on the
 * number row (leased_session_id, leased_until), so taking a free number is one conditional
 * UPDATE that two concurrent requests can never both win. It never fails for lack of numbers:
 * an exhausted pool hands out its overflow number (or shares its oldest lease) and says so.
 */
export class TrackingSessionsService {
  constructor(private readonly ds: DataSource) {}

  async lease(input: unknown): Promise<Lease> {
    const req = sessionRequestSchema.parse(input);
    const touch = touchFrom(req.landingPage, req.referrer);
    const firstTouch = req.firstTouch ? touchFrom(req.firstTouch.landingPage, req.firstTouch.referrer) : touch;

    return this.ds.transaction(async (em) => {
      const [pool] = (await em.query(`SELECT id, overflow_number, hold_minutes FROM tracking_pools WHERE name = $1`, [req.pool])) as PoolRow[];
      if (!pool) throw new AppError("not_found", "Unknown tracking pool");
      const session = req.sessionId ? await this.existingSession(em, req.sessionId, pool.id, touch) : await this.newSession(em, pool.id, touch, firstTouch);

      const held = session.tracking_number_id ? await this.keepNumber(em, pool, session) : null;
      const shown = held ?? (await this.takeFreeNumber(em, pool, session.id)) ?? (await this.exhausted(em, pool, session.id));
      const [row] = await returningRows<{ lease_expires_at: Date }>(
        em,
        `UPDATE tracking_sessions SET tracking_number_id = $2, number = $3, is_overflow = $4, is_shared = $5,
           lease_expires_at = now() + make_interval(mins => $6), last_seen_at = now()
         WHERE id = $1 RETURNING lease_expires_at`,
        [session.id, shown.numberId, shown.number, shown.kind === "overflow", shown.kind === "shared", pool.hold_minutes],
      );
      return {
        sessionId: session.id,
        number: shown.number,
        expiresAt: new Date(row!.lease_expires_at).toISOString(),
        overflow: shown.kind !== "leased",
      };
    });
  }

  private async newSession(em: EntityManager, poolId: string, touch: Touch, firstTouch: Touch): Promise<SessionRow> {
    const [row] = (await em.query(
      `INSERT INTO tracking_sessions (pool_id, ${TOUCH_COLUMNS.join(", ")}, first_touch, lease_expires_at)
       VALUES ($1, ${TOUCH_COLUMNS.map((_, i) => `$${i + 2}`).join(", ")}, $${TOUCH_COLUMNS.length + 2}, now())
       RETURNING id, pool_id, tracking_number_id`,
      [poolId, ...touchValues(touch), firstTouchSummary(firstTouch)],
    )) as SessionRow[];
    return row!;
  }

  /**
   * A returning session, locked for this request. A new ad or campaign click replaces what the
   * session knew (last non-direct touch); plain navigation keeps the entry touch.
   */
  private async existingSession(em: EntityManager, id: string, poolId: string, touch: Touch): Promise<SessionRow> {
    const [row] = (await em.query(`SELECT id, pool_id, tracking_number_id FROM tracking_sessions WHERE id = $1 FOR UPDATE`, [id])) as SessionRow[];
    // Another pool's session is as unknown here as a forged id: say nothing more about it.
    if (!row || row.pool_id !== poolId) throw new AppError("not_found", "Unknown tracking session");
    if (touch.tagged) {
      await em.query(`UPDATE tracking_sessions SET ${TOUCH_COLUMNS.map((c, i) => `${c} = $${i + 2}`).join(", ")} WHERE id = $1`, [id, ...touchValues(touch)]);
    }
    return row;
  }

  /** A returning session keeps its number while nobody else has taken it since. */
  private async keepNumber(em: EntityManager, pool: PoolRow, session: SessionRow): Promise<Shown | null> {
    const [row] = await returningRows<{ id: string; number: string }>(
      em,
      `UPDATE tracking_numbers SET leased_session_id = $2, leased_until = now() + make_interval(mins => $4)
       WHERE id = $1 AND pool_id = $3 AND is_active
         AND (leased_session_id = $2 OR leased_until IS NULL OR leased_until <= now())
       RETURNING id, number`,
      [session.tracking_number_id, session.id, pool.id, pool.hold_minutes],
    );
    return row ? { kind: "leased", numberId: row.id, number: row.number } : null;
  }

  /**
   * The number free the longest. SKIP LOCKED lets concurrent requests pass each other; the outer
   * condition is re-checked on the locked row, so a number leased meanwhile is never taken twice.
   */
  private async takeFreeNumber(em: EntityManager, pool: PoolRow, sessionId: string): Promise<Shown | null> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const rows = await returningRows<{ id: string; number: string }>(
        em,
        `UPDATE tracking_numbers SET leased_session_id = $2, leased_until = now() + make_interval(mins => $3)
         WHERE id = (
           SELECT id FROM tracking_numbers
           WHERE pool_id = $1 AND is_active AND (leased_until IS NULL OR leased_until <= now())
           ORDER BY leased_until NULLS FIRST LIMIT 1 FOR UPDATE SKIP LOCKED)
         AND (leased_until IS NULL OR leased_until <= now())
         RETURNING id, number`,
        [pool.id, sessionId, pool.hold_minutes],
      );
      if (rows[0]) return { kind: "leased", numberId: rows[0].id, number: rows[0].number };
      const [free] = await em.query(
        `SELECT 1 FROM tracking_numbers WHERE pool_id = $1 AND is_active AND (leased_until IS NULL OR leased_until <= now()) LIMIT 1`,
        [pool.id],
      );
      if (!free) return null;
    }
    return null;
  }

  /**
   * No free number: record the exhaustion (the pool report sizes pools from it) and show the
   * overflow number, else share the lease that ends soonest. Calls to either are attributed to
   * every live session shown that number, each with its share of the confidence.
   */
  private async exhausted(em: EntityManager, pool: PoolRow, sessionId: string): Promise<Shown> {
    await em.query(`INSERT INTO tracking_pool_exhaustions (pool_id, session_id) VALUES ($1, $2)`, [pool.id, sessionId]);
    if (pool.overflow_number) return { kind: "overflow", numberId: null, number: pool.overflow_number };
    const [shared] = await em.query(
      `SELECT id, number FROM tracking_numbers WHERE pool_id = $1 AND is_active ORDER BY leased_until NULLS FIRST LIMIT 1`,
      [pool.id],
    );
    return shared ? { kind: "shared", numberId: null, number: shared.number } : { kind: "shared", numberId: null, number: null };
  }
}

type Shown = { kind: "leased" | "overflow" | "shared"; numberId: string | null; number: string | null };

/** utm_source / utm_medium hold the derived source and medium when the page carried no utm tags. */
const TOUCH_COLUMNS = [
  "utm_source",
  "utm_medium",
  "utm_campaign",
  "utm_term",
  "utm_content",
  "click_id_type",
  "click_id",
  "referrer",
  "landing_page",
] as const;

const touchValues = (t: Touch) => [t.source, t.medium, t.campaign, t.keyword, t.content, t.clickIdType, t.clickId, t.referrer, t.landingPage];

const firstTouchSummary = (t: Touch) =>
  JSON.stringify({ source: t.source, medium: t.medium, campaign: t.campaign, keyword: t.keyword, landingPage: t.landingPage, referrer: t.referrer });
