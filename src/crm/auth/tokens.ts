import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import type { UserRole } from "../entities/user.entity";

const ALG = "HS256";
const ISSUER = "callcenter-crm";
const AUDIENCE = "callcenter-crm:agents";

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

  async sign(userId: string, role: UserRole): Promise<{ token: string; expiresAt: Date }> {
    const expiresAt = new Date(Date.now() + this.ttlMinutes * 60_000);
    const token = await new SignJWT({ role })
      .setProtectedHeader({ alg: ALG, typ: "JWT" })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.key);
    return { token, expiresAt };
  }

  /** Returns the claims, or undefined for any invalid, expired or foreign token. */
  async verify(token: string): Promise<TokenClaims | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: [ALG], issuer: ISSUER, audience: AUDIENCE });
      if (typeof payload.sub !== "string" || typeof payload.role !== "string" || typeof payload.exp !== "number") return undefined;
      return { sub: payload.sub, role: payload.role as UserRole, exp: payload.exp };
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) return undefined;
      throw err;
    }
  }
}
