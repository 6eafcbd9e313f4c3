import type { DataSource, EntityManager } from "typeorm";
import { isUniqueViolation } from "../../platform/db/sql";
import { z } from "zod";
import { actorOf, parsePhone, type AuditService, type Principal } from "../../crm";
import { AppError } from "../../platform/errors";

const label = z.string().trim().min(1).max(100);
const idSchema = z.uuid();

export const newNumberSchema = z
  .object({
    number: z.string().trim().min(3).max(40),
    pool: label.optional(),
    source: label.optional(),
    medium: label.optional(),
    campaign: label.optional(),
  })
  .strict()
  .refine((n) => n.pool !== undefined || n.source !== undefined, { message: "a static number (no pool) needs a source", path: ["source"] });

export const newPoolSchema = z
  .object({
    name: label,
    overflowNumber: z.string().trim().min(3).max(40).optional(),
    holdMinutes: z.number().int().min(1).max(1440).optional(),
  })
  .strict();

export const poolPatchSchema = z
  .object({
    overflowNumber: z.string().trim().min(3).max(40).nullable().optional(),
    holdMinutes: z.number().int().min(1).max(1440).optional(),
  })
  .strict();

export interface TrackingNumberView {
  id: string;
  number: string;
  pool: string | null;
  source: string | null;
  medium: string | null;
  campaign: string | null;
  isActive: boolean;
  leasedUntil: string | null;
}

export interface PoolView {
  id: string;
  name: string;
  overflowNumber: string | null;
  holdMinutes: number;
  size: number;
  leased: number;
}

/** Tracking numbers and DNI pools: settings an admin keeps, each change audited. */
export class TrackingNumbersService {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly defaultRegion: string,
  ) {}

  private e164(raw: string, field: string): string {
    const p = parsePhone(raw, this.defaultRegion);
    if (p.kind !== "number" || p.extension) throw new AppError("validation_failed", `${field} is not a dialable phone number`);
    return p.e164;
  }

  /**
   * A static number (its own source) or, with `pool`, a DNI pool number; the pool is created on
   * first use. `who` is undefined when the system itself adds it (the demo data).
   */
  async createNumber(who: Principal | undefined, input: unknown, requestId?: string): Promise<TrackingNumberView> {
    const data = newNumberSchema.parse(input);
    const number = this.e164(data.number, "number");
    return this.uniquely("This number is already a tracking number", () =>
      this.ds.transaction(async (em) => {
        const poolId = data.pool ? await this.poolIdFor(em, who, data.pool, requestId) : null;
        const [row] = await em.query(
          `INSERT INTO tracking_numbers (number, pool_id, source, medium, campaign) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
          [number, poolId, data.source ?? null, data.medium ?? null, data.campaign ?? null],
        );
        const view = (await this.numbers(em, row.id))[0]!;
        await this.audit.record(em, { actor: actorOf(who), action: "create", entity: "tracking_number", entityId: view.id, after: view, requestId });
        return view;
      }),
    );
  }

  async listNumbers(): Promise<{ items: TrackingNumberView[] }> {
    return { items: await this.numbers(this.ds.manager) };
  }

  /** Retires a number: it is leased no more, and its past calls keep their attribution. */
  async deactivateNumber(who: Principal, id: string, requestId?: string): Promise<TrackingNumberView> {
    const numberId = idSchema.parse(id);
    return this.ds.transaction(async (em) => {
      const [before] = await this.numbers(em, numberId);
      if (!before) throw new AppError("not_found", "No such tracking number");
      await em.query(`UPDATE tracking_numbers SET is_active = false, leased_session_id = NULL, leased_until = NULL, updated_at = now() WHERE id = $1`, [numberId]);
      const after = (await this.numbers(em, numberId))[0]!;
      await this.audit.record(em, { actor: actorOf(who), action: "update", entity: "tracking_number", entityId: numberId, before, after, requestId });
      return after;
    });
  }

  async createPool(who: Principal, input: unknown, requestId?: string): Promise<PoolView> {
    const data = newPoolSchema.parse(input);
    const overflow = data.overflowNumber ? this.e164(data.overflowNumber, "overflowNumber") : null;
    return this.uniquely("A pool with this name already exists", () =>
      this.ds.transaction(async (em) => {
        const [row] = await em.query(
          `INSERT INTO tracking_pools (name, overflow_number, hold_minutes) VALUES ($1, $2, $3) RETURNING id`,
          [data.name, overflow, data.holdMinutes ?? 30],
        );
        const view = (await this.pools(em, row.id))[0]!;
        await this.audit.record(em, { actor: actorOf(who), action: "create", entity: "tracking_pool", entityId: view.id, after: view, requestId });
        return view;
      }),
    );
  }

  async updatePool(who: Principal, id: string, input: unknown, requestId?: string): Promise<PoolView> {
    const poolId = idSchema.parse(id);
    const data = poolPatchSchema.parse(input);
    const overflow = data.overflowNumber ? this.e164(data.overflowNumber, "overflowNumber") : data.overflowNumber;
    return this.ds.transaction(async (em) => {
      const [before] = await this.pools(em, poolId);
      if (!before) throw new AppError("not_found", "No such tracking pool");
      await em.query(
        `UPDATE tracking_pools SET overflow_number = CASE WHEN $2 THEN $3 ELSE overflow_number END,
           hold_minutes = COALESCE($4, hold_minutes), updated_at = now() WHERE id = $1`,
        [poolId, overflow !== undefined, overflow ?? null, data.holdMinutes ?? null],
      );
      const after = (await this.pools(em, poolId))[0]!;
      await this.audit.record(em, { actor: actorOf(who), action: "update", entity: "tracking_pool", entityId: poolId, before, after, requestId });
      return after;
    });
  }

  async listPools(): Promise<{ items: PoolView[] }> {
    return { items: await this.pools(this.ds.manager) };
  }

  private async poolIdFor(em: EntityManager, who: Principal | undefined, name: string, requestId?: string): Promise<string> {
    const [existing] = await em.query(`SELECT id FROM tracking_pools WHERE name = $1`, [name]);
    if (existing) return existing.id;
    const [row] = await em.query(`INSERT INTO tracking_pools (name) VALUES ($1) RETURNING id`, [name]);
    await this.audit.record(em, { actor: actorOf(who), action: "create", entity: "tracking_pool", entityId: row.id, after: { id: row.id, name }, requestId });
    return row.id;
  }

  private async numbers(em: EntityManager, id?: string): Promise<TrackingNumberView[]> {
    const rows = await em.query(
      `SELECT n.id, n.number, p.name AS pool, n.source, n.medium, n.campaign, n.is_active, n.leased_until
       FROM tracking_numbers n LEFT JOIN tracking_pools p ON p.id = n.pool_id
       WHERE $1::uuid IS NULL OR n.id = $1 ORDER BY p.name NULLS FIRST, n.number LIMIT 1000`,
      [id ?? null],
    );
    return rows.map((r: Record<string, unknown>) => ({
      id: r.id as string,
      number: r.number as string,
      pool: (r.pool as string | null) ?? null,
      source: r.source as string | null,
      medium: r.medium as string | null,
      campaign: r.campaign as string | null,
      isActive: r.is_active as boolean,
      leasedUntil: r.leased_until && new Date(r.leased_until as string) > new Date() ? new Date(r.leased_until as string).toISOString() : null,
    }));
  }

  private async pools(em: EntityManager, id?: string): Promise<PoolView[]> {
    const rows = await em.query(
      `SELECT p.id, p.name, p.overflow_number, p.hold_minutes,
         count(n.id) FILTER (WHERE n.is_active)::int AS size,
         count(n.id) FILTER (WHERE n.is_active AND n.leased_until > now())::int AS leased
       FROM tracking_pools p LEFT JOIN tracking_numbers n ON n.pool_id = p.id
       WHERE $1::uuid IS NULL OR p.id = $1 GROUP BY p.id ORDER BY p.name LIMIT 1000`,
      [id ?? null],
    );
    return rows.map((r: Record<string, unknown>) => ({
      id: r.id as string,
      name: r.name as string,
      overflowNumber: r.overflow_number as string | null,
      holdMinutes: r.hold_minutes as number,
      size: r.size as number,
      leased: r.leased as number,
    }));
  }

  private async uniquely<T>(message: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError("conflict", message);
      throw err;
    }
  }
}
