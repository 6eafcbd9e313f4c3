import { Router } from "express";
import { requireRole } from "../auth/auth.middleware";
import type { AuditQuery } from "./audit.query";

/** GET /audit?entity=&id= — supervisors and admins. */
export function auditRouter(deps: { audit: AuditQuery }): Router {
  const r = Router();
  r.get("/", requireRole("supervisor", "admin"), async (req, res) => {
    res.json(await deps.audit.history(req.query));
  });
  return r;
}
