import type { DataSource } from "typeorm";
import { z } from "zod";
import { AppError } from "../../platform/errors";
import { USER_ROLES, User } from "../entities/user.entity";
import { hashPassword } from "../auth/passwords";
import { isUniqueViolation, returningRows } from "../../platform/db/sql";
import { prepared } from "../../platform/db/prepared";
import type { Actor, AuditService } from "../audit/audit.service";
import { isUuid } from "../../platform/uuid";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const USER_STANDING = prepared("users.standing", `SELECT id, email, name, role, is_active AS "isActive" FROM users WHERE id = $1`);

/** A user as a token's holder: who, in which role, and whether still allowed in. */
export type UserStanding = Pick<User, "id" | "email" | "name" | "role" | "isActive">;

/** `client:alice`, an E.164 number, or a SIP URI: what Twilio dials to reach the agent. */
export const dialTargetSchema = z
  .string()
  .trim()
  .max(200)
  .regex(/^(client:[A-Za-z0-9_.@-]{1,120}|\+[1-9]\d{6,14}|sips?:[^\s<>"]{3,190})$/, "must be client:<identity>, an E.164 number or a sip: URI");

export const newUserSchema = z
  .object({
    email: z.email().max(254).transform((e) => e.toLowerCase()),
    password: z.string().min(10, "must be at least 10 characters").max(200),
    role: z.enum(USER_ROLES),
    name: z.string().trim().min(1).max(120).optional(),
    dialTarget: dialTargetSchema.optional(),
  })
  .strict();

export type NewUser = z.infer<typeof newUserSchema>;

export const userPatchSchema = z
  .object({
    name: z.string().trim().min(1).max(120).optional(),
    role: z.enum(USER_ROLES).optional(),
    dialTarget: dialTargetSchema.nullable().optional(),
    isActive: z.boolean().optional(),
    password: z.string().min(10, "must be at least 10 characters").max(200).optional(),
    /** Lifts a sign-in lockout now. */
    unlock: z.literal(true).optional(),
  })
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: "nothing to change" });

export interface PublicUser {
  id: string;
  email: string;
  name: string;
  role: User["role"];
  dialTarget: string | null;
}

export const toPublicUser = (u: User): PublicUser => ({ id: u.id, email: u.email, name: u.name, role: u.role, dialTarget: u.dialTarget });

export class UsersService {
  private accessRevoked: ((userId: string) => void) | undefined;

  constructor(private readonly ds: DataSource, private readonly audit: AuditService) {}

  async create(input: unknown, actor: Actor, requestId?: string): Promise<PublicUser> {
    const data = newUserSchema.parse(input);
    const passwordHash = await hashPassword(data.password);
    try {
      return await this.ds.transaction(async (em) => {
        const user = await em.save(
          em.create(User, {
            email: data.email,
            name: data.name ?? data.email.split("@")[0] ?? data.email,
            role: data.role,
            passwordHash,
            dialTarget: data.dialTarget ?? null,
          }),
        );
        const after = toPublicUser(user);
        await this.audit.record(em, { actor, action: "create", entity: "user", entityId: user.id, after, requestId });
        return after;
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new AppError("conflict", "A user with this email already exists");
      }
      throw err;
    }
  }

  /**
   * An admin changes a user: name, role, dial target, password, active or not, lockout lifted.
   * A deactivated user's tokens stop working at once (every request checks). The last active
   * admin cannot be demoted or deactivated, so the service never locks its admins out.
   */
  async update(actor: Actor, id: string, input: unknown, requestId?: string): Promise<PublicUser & { isActive: boolean }> {
    if (!isUuid(id)) throw new AppError("not_found", "No such user");
    const patch = userPatchSchema.parse(input);
    const passwordHash = patch.password ? await hashPassword(patch.password) : null;
    const { updated, revoked } = await this.ds.transaction(async (em) => {
      // Serialises admin changes, so two cannot each remove "another" last admin.
      await em.query(`SELECT pg_advisory_xact_lock(hashtextextended('users:admins', 0))`);
      const before = await em.getRepository(User).findOneBy({ id });
      if (!before) throw new AppError("not_found", "No such user");
      const staysAdmin = (patch.role ?? before.role) === "admin" && (patch.isActive ?? before.isActive);
      if (before.role === "admin" && before.isActive && !staysAdmin) {
        const [{ n }] = await em.query(`SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND is_active AND id <> $1`, [id]);
        if (n === 0) throw new AppError("conflict", "This is the last active admin: make another admin first");
      }
      await em.query(
        `UPDATE users SET name = COALESCE($2, name), role = COALESCE($3, role),
           dial_target = CASE WHEN $4 THEN $5 ELSE dial_target END, is_active = COALESCE($6, is_active),
           password_hash = COALESCE($7, password_hash),
           failed_logins = CASE WHEN $8 THEN 0 ELSE failed_logins END, locked_until = CASE WHEN $8 THEN NULL ELSE locked_until END,
           presence = CASE WHEN $6 = false THEN 'offline' ELSE presence END, updated_at = now()
         WHERE id = $1`,
        [id, patch.name ?? null, patch.role ?? null, patch.dialTarget !== undefined, patch.dialTarget ?? null, patch.isActive ?? null, passwordHash, patch.unlock === true],
      );
      const after = (await em.getRepository(User).findOneBy({ id }))!;
      const shown = (u: User) => ({ ...toPublicUser(u), isActive: u.isActive });
      // The audit says a password changed, never what it is.
      await this.audit.record(em, { actor, action: "update", entity: "user", entityId: id, before: shown(before), after: { ...shown(after), ...(patch.password ? { passwordChanged: true } : {}) }, requestId });
      return { updated: shown(after), revoked: (before.isActive && !after.isActive) || before.role !== after.role };
    });
    // Their tokens stopped working with the commit; their open connections end with them.
    if (revoked) this.accessRevoked?.(id);
    return updated;
  }

  /** Who to tell when a user's tokens stop working (deactivated, or another role): realtime ends their sockets. */
  onAccessRevoked(hook: ((userId: string) => void) | undefined): void {
    this.accessRevoked = hook;
  }

  /** The team, for supervisors and admins: who can take calls and their state. */
  async list(): Promise<Array<PublicUser & { presence: User["presence"]; isActive: boolean }>> {
    const users = await this.ds.getRepository(User).find({ order: { name: "ASC" }, take: 1000 });
    return users.map((u) => ({ ...toPublicUser(u), presence: u.presence, isActive: u.isActive }));
  }

  async findById(id: string): Promise<User | null> {
    return this.ds.getRepository(User).findOneBy({ id });
  }

  /**
   * What authenticating a token needs, for every API request and socket connection: one
   * prepared statement (TypeORM's findOneBy built, parsed and planned its query every time).
   * None for an id that is no uuid (a token only we sign names one, but it is not trusted).
   */
  async standing(id: string): Promise<UserStanding | undefined> {
    if (!UUID.test(id)) return undefined;
    const [row] = await this.ds.query(USER_STANDING, [id]);
    return row;
  }

  async findActiveByEmail(email: string): Promise<User | null> {
    return this.ds
      .getRepository(User)
      .createQueryBuilder("u")
      .where("lower(u.email) = lower(:email)", { email })
      .andWhere("u.is_active")
      .getOne();
  }

  /** Counts a failed sign-in; at `maxFailures` in a row the account is locked for `lockMinutes`. */
  async recordFailedLogin(id: string, policy: { maxFailures: number; lockMinutes: number }): Promise<{ lockedUntil: Date | null }> {
    const [row] = await returningRows<{ locked_until: Date | null }>(
      this.ds.manager,
      `UPDATE users SET failed_logins = failed_logins + 1,
         locked_until = CASE WHEN failed_logins + 1 >= $2 THEN now() + make_interval(mins => $3) ELSE locked_until END
       WHERE id = $1 RETURNING locked_until`,
      [id, policy.maxFailures, policy.lockMinutes],
    );
    return { lockedUntil: row?.locked_until ?? null };
  }

  async recordSuccessfulLogin(user: User): Promise<void> {
    if (user.failedLogins > 0 || user.lockedUntil) await this.ds.query(`UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1`, [user.id]);
  }
}
