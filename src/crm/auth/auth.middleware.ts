import type { RequestHandler } from "express";
import { AppError } from "../../platform/errors";
import type { UserRole } from "../entities/user.entity";
import type { AuthService } from "./auth.service";

/**
 * Requires `Authorization: Bearer <jwt | api key>`, or on a GET an `access` link token issued
 * for exactly that path (AuthService.issueLink); sets req.principal.
 */
export function requireAuth(auth: AuthService): RequestHandler {
  return async (req, _res, next) => {
    // Routers mounted on overlapping paths may both require auth: check the credential once.
    if (req.principal) return next();
    const access = req.query.access;
    if (req.method === "GET" && typeof access === "string" && !req.headers.authorization) {
      const principal = access.length <= 2048 ? await auth.authenticateLink(access, linkPath(req.originalUrl)) : undefined;
      if (!principal) throw new AppError("unauthenticated", "This link is invalid or has expired");
      req.principal = principal;
      return next();
    }
    const header = req.headers.authorization;
    const match = typeof header === "string" ? /^Bearer\s+(\S{10,2048})$/i.exec(header) : null;
    if (!match?.[1]) throw new AppError("unauthenticated", "Missing or malformed Authorization: Bearer header");
    const principal = await auth.authenticate(match[1]);
    if (!principal) throw new AppError("unauthenticated", "Invalid or expired credentials");
    req.principal = principal;
    next();
  };
}

/** Function-level authorisation; object-level checks live in the services. */
export function requireRole(...roles: UserRole[]): RequestHandler {
  return (req, _res, next) => {
    if (!req.principal) throw new AppError("unauthenticated", "Not signed in");
    if (!roles.includes(req.principal.role)) {
      throw new AppError("forbidden", `This action needs one of the roles: ${roles.join(", ")}`);
    }
    next();
  };
}

/** The path a link is issued for: the URL without its query. */
export const linkPath = (url: string): string => url.split("?")[0]!;
