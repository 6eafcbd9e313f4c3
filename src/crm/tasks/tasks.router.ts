import { Router } from "express";
import { actorOf } from "../audit/audit.service";
import { requireRole } from "../auth/auth.middleware";
import type { TasksService } from "./tasks.service";

export function tasksRouter(deps: { tasks: TasksService }): Router {
  const r = Router();
  r.use(requireRole("agent", "supervisor", "admin"));
  r.get("/", async (req, res) => {
    res.json(await deps.tasks.list(req.principal!, req.query));
  });
  r.patch("/:id", async (req, res) => {
    res.json(await deps.tasks.update(req.principal!, actorOf(req.principal), String(req.params.id), req.body, String(req.id)));
  });
  return r;
}
