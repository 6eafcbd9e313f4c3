import type { DataSource } from "typeorm";
import { z } from "zod";
import { AppError } from "../../platform/errors";
import { USER_ROLES, User } from "../entities/user.entity";
import { hashPassword } from "../auth/passwords";
import type { Actor, AuditService } from "../audit/audit.service";

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

export interface PublicUser {
  id: string;
  email: string;
  name: string;
  role: User["role"];
  dialTarget: string | null;
}

export const toPublicUser = (u: User): PublicUser => ({ id: u.id, email: u.email, name: u.name, role: u.role, dialTarget: u.dialTarget });

const UNIQUE_VIOLATION = "23505";

export class UsersService {
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
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) {
        throw new AppError("conflict", "A user with this email already exists");
      }
      throw err;
    }
  }

  /** The team, for supervisors and admins: who can take calls and their state. */
  async list(): Promise<Array<PublicUser & { presence: User["presence"]; isActive: boolean }>> {
    const users = await this.ds.getRepository(User).find({ order: { name: "ASC" }, take: 1000 });
    return users.map((u) => ({ ...toPublicUser(u), presence: u.presence, isActive: u.isActive }));
  }

  async findById(id: string): Promise<User | null> {
    return this.ds.getRepository(User).findOneBy({ id });
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
    const [rows] = await this.ds.query(
      `UPDATE users SET failed_logins = failed_logins + 1,
         locked_until = CASE WHEN failed_logins + 1 >= $2 THEN now() + make_interval(mins => $3) ELSE locked_until END
       WHERE id = $1 RETURNING locked_until`,
      [id, policy.maxFailures, policy.lockMinutes],
    );
    return { lockedUntil: rows?.[0]?.locked_until ?? null };
  }

  async recordSuccessfulLogin(user: User): Promise<void> {
    if (user.failedLogins > 0 || user.lockedUntil) await this.ds.query(`UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1`, [user.id]);
  }
}
