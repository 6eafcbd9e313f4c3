import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import type { UserRole } from "../entities/user.entity";

const ALG = "HS256";
const ISSUER = "callcenter-crm";
const AUDIENCE = "callcenter-crm:agents";
/** Links are a separate audience: a link can never pass for a sign-in token, nor the reverse. */
const LINK_AUDIENCE = "callcenter-crm:link";

export interface TokenClaims {
  sub: string;
  role: UserRole;
  exp: number;
}

/** JWTs for agents: HS256 only (the algorithm is pinned on verify), issuer, audience and expiry checked. */
export class TokenSigner {
  private readonly key: Uint8Array;

  constructor(secret: string, private readonly ttlMinutes: number) {
    this.key = new TextEncoder().encode(secret);
  }

  sign(userId: string, role: UserRole): Promise<{ token: string; expiresAt: Date }> {
    return this.signFor(AUDIENCE, userId, { role }, this.ttlMinutes * 60);
  }

  /** A short-lived token good for GET on one path only (a media element cannot send headers). */
  signLink(userId: string, role: UserRole, path: string, ttlSeconds: number): Promise<{ token: string; expiresAt: Date }> {
    return this.signFor(LINK_AUDIENCE, userId, { role, path }, ttlSeconds);
  }

  private async signFor(audience: string, userId: string, claims: Record<string, string>, ttlSeconds: number): Promise<{ token: string; expiresAt: Date }> {
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: ALG, typ: "JWT" })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.key);
    return { token, expiresAt };
  }

  /** The claims of a link token issued for exactly this path, else undefined. */
  async verifyLink(token: string, path: string): Promise<TokenClaims | undefined> {
    const claims = await this.verifyFor(token, LINK_AUDIENCE);
    return claims && claims.path === path ? claims : undefined;
  }

  /** Returns the claims, or undefined for any invalid, expired or foreign token. */
  verify(token: string): Promise<TokenClaims | undefined> {
    return this.verifyFor(token, AUDIENCE);
  }

  private async verifyFor(token: string, audience: string): Promise<(TokenClaims & { path?: unknown }) | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: [ALG], issuer: ISSUER, audience });
      if (typeof payload.sub !== "string" || typeof payload.role !== "string" || typeof payload.exp !== "number") return undefined;
      return { sub: payload.sub, role: payload.role as UserRole, exp: payload.exp, path: payload.path };
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) return undefined;
      throw err;
    }
  }
}
