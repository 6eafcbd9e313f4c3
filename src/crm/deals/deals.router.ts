import { Router } from "express";
import { requireRole } from "../auth/auth.middleware";
import type { DealsQuery } from "./deals.query";

/** GET /deals — the people who work the deals (marketers see them in reports). */
export function dealsRouter(deps: { deals: DealsQuery }): Router {
  const r = Router();
  r.get("/", requireRole("agent", "supervisor", "admin"), async (req, res) => {
    res.json(await deps.deals.list(req.query));
  });
  return r;
}
