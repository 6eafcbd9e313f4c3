import { z } from "zod";
import { AppError } from "../../platform/errors";
import type { UserRole } from "../entities/user.entity";
import type { ApiKeysService } from "../api-keys/api-keys.service";
import { toPublicUser, type PublicUser, type UsersService } from "../users/users.service";
import { DUMMY_HASH_PROMISE, verifyPassword } from "./passwords";
import type { Principal } from "./principal";
import type { TokenClaims, TokenSigner } from "./tokens";

export const loginSchema = z
  .object({ email: z.string().trim().max(254), password: z.string().max(200) })
  .strict();

export interface LockoutPolicy {
  /** Failed sign-ins in a row that lock an account. */
  maxFailures: number;
  lockMinutes: number;
}

/** Long enough to listen to a long call and seek in it; short enough that a leaked link soon dies. */
const LINK_TTL_SECONDS = 30 * 60;

export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly apiKeys: ApiKeysService,
    private readonly tokens: TokenSigner,
    private readonly lockout: LockoutPolicy,
  ) {}

  async login(input: unknown): Promise<{ token: string; expiresAt: string; user: PublicUser }> {
    const { email, password } = loginSchema.parse(input);
    const user = await this.users.findActiveByEmail(email);
    // Verify against a dummy hash for unknown emails so timing does not reveal which exist.
    const ok = await verifyPassword(password, user?.passwordHash ?? (await DUMMY_HASH_PROMISE));
    // A locked account refuses even the right password: guessing must not go on meanwhile.
    if (user?.lockedUntil && user.lockedUntil > new Date()) throw locked(user.lockedUntil);
    if (!user || !ok) {
      if (user) {
        const { lockedUntil } = await this.users.recordFailedLogin(user.id, this.lockout);
        if (lockedUntil && new Date(lockedUntil) > new Date()) throw locked(new Date(lockedUntil));
      }
      throw new AppError("invalid_credentials", "Email or password is wrong");
    }
    await this.users.recordSuccessfulLogin(user);
    const { token, expiresAt } = await this.tokens.sign(user.id, user.role);
    return { token, expiresAt: expiresAt.toISOString(), user: toPublicUser(user) };
  }

  /** Resolves a bearer credential (a JWT or an API key) to a principal, or undefined. */
  async authenticate(bearer: string): Promise<Principal | undefined> {
    if (bearer.startsWith("ck_")) return this.apiKeys.authenticate(bearer);
    const claims = await this.tokens.verify(bearer);
    return claims ? this.principalOf(claims) : undefined;
  }

  private async principalOf(claims: TokenClaims): Promise<Principal | undefined> {
    const user = await this.users.standing(claims.sub);
    // A deactivated user or a changed role invalidates tokens issued before.
    if (!user || !user.isActive || user.role !== claims.role) return undefined;
    return { kind: "user", id: user.id, role: user.role, email: user.email, name: user.name };
  }

  /**
   * A link to one GET path for a signed-in user, for what a browser fetches without headers
   * (an <audio> element). Short-lived; the user's standing is checked again on every use.
   */
  async issueLink(who: Principal, path: string): Promise<{ token: string; expiresAt: string }> {
    if (who.kind !== "user") throw new AppError("forbidden", "Links are issued to signed-in users; an API key sends its own header");
    const { token, expiresAt } = await this.tokens.signLink(who.id, who.role, path, LINK_TTL_SECONDS);
    return { token, expiresAt: expiresAt.toISOString() };
  }

  async authenticateLink(token: string, path: string): Promise<Principal | undefined> {
    const claims = await this.tokens.verifyLink(token, path);
    return claims ? this.principalOf(claims) : undefined;
  }

  /** For sockets: the principal and when its token expires. */
  async authenticateToken(token: string): Promise<{ principal: Principal; expiresAt: Date } | undefined> {
    const claims = await this.tokens.verify(token);
    if (!claims) return undefined;
    const principal = await this.principalOf(claims);
    return principal ? { principal, expiresAt: new Date(claims.exp * 1000) } : undefined;
  }
}

const locked = (until: Date) =>
  new AppError("account_locked", `Too many failed sign-ins: this account is locked until ${until.toISOString()}`);

export const hasRole = (p: Principal, roles: readonly UserRole[]) => roles.includes(p.role);
