import { Router, type RequestHandler } from "express";
import { AppError } from "../../platform/errors";
import type { AuthService } from "./auth.service";
import type { UsersService } from "../users/users.service";
import { toPublicUser } from "../users/users.service";

export function authRouter(deps: { auth: AuthService; users: UsersService; authenticated: RequestHandler; loginLimiter: RequestHandler }): Router {
  const r = Router();
  r.post("/login", deps.loginLimiter, async (req, res) => {
    res.json(await deps.auth.login(req.body));
  });
  r.get("/me", deps.authenticated, async (req, res) => {
    const p = req.principal!;
    if (p.kind === "api_key") {
      res.json({ id: p.id, email: null, name: p.name ?? null, role: p.role, kind: "api_key" });
      return;
    }
    const user = await deps.users.findById(p.id);
    if (!user) throw new AppError("unauthenticated", "User no longer exists");
    res.json(toPublicUser(user));
  });
  return r;
}
