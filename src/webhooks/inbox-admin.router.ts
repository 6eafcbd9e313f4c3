import { Router } from "express";
import { actorOf, requireRole } from "../crm";
import type { InboxAdminService } from "./inbox-admin.service";

/** /api/inbox — provider deliveries not applied yet, and retries of failed ones: admins only. */
export function inboxAdminRouter(deps: { inbox: InboxAdminService }): Router {
  const r = Router();
  r.use(requireRole("admin"));
  r.get("/deliveries", async (req, res) => {
    res.json(await deps.inbox.list(req.query));
  });
  r.get("/deliveries/:id", async (req, res) => {
    res.json(await deps.inbox.get(String(req.params.id)));
  });
  r.post("/deliveries/:id/retry", async (req, res) => {
    res.json(await deps.inbox.retry(actorOf(req.principal), String(req.params.id), String(req.id)));
  });
  return r;
}
