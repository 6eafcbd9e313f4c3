import { Router } from "express";
import { requireRole } from "../auth/auth.middleware";
import { actorOf } from "../audit/audit.service";
import type { UsersService } from "./users.service";
import type { ApiKeysService } from "../api-keys/api-keys.service";

export function usersRouter(deps: { users: UsersService }): Router {
  const r = Router();
  r.get("/", requireRole("supervisor", "admin"), async (_req, res) => {
    res.json({ items: await deps.users.list() });
  });
  r.post("/", requireRole("admin"), async (req, res) => {
    const user = await deps.users.create(req.body, actorOf(req.principal), String(req.id));
    res.status(201).json(user);
  });
  r.patch("/:id", requireRole("admin"), async (req, res) => {
    res.json(await deps.users.update(actorOf(req.principal), String(req.params.id), req.body, String(req.id)));
  });
  return r;
}

export function apiKeysRouter(deps: { apiKeys: ApiKeysService }): Router {
  const r = Router();
  r.post("/", requireRole("admin"), async (req, res) => {
    res.status(201).json(await deps.apiKeys.create(req.body, actorOf(req.principal), String(req.id)));
  });
  return r;
}
