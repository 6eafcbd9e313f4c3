import { Router } from "express";
import { actorOf } from "../audit/audit.service";
import { requireRole } from "../auth/auth.middleware";
import type { DealEditsService } from "./deal-edits.service";
import type { DealsQuery } from "./deals.query";

/** /deals — the people who work the deals (marketers see them in reports). */
export function dealsRouter(deps: { deals: DealsQuery; edits: DealEditsService }): Router {
  const r = Router();
  r.use(requireRole("agent", "supervisor", "admin"));
  r.get("/", async (req, res) => {
    res.json(await deps.deals.list(req.query));
  });
  r.post("/", async (req, res) => {
    res.status(201).json(await deps.edits.create(req.principal!, actorOf(req.principal), req.body, String(req.id)));
  });
  r.patch("/:id", async (req, res) => {
    res.json(await deps.edits.update(req.principal!, actorOf(req.principal), String(req.params.id), req.body, String(req.id)));
  });
  r.get("/:id/history", async (req, res) => {
    res.json(await deps.edits.history(String(req.params.id)));
  });
  return r;
}

/** /pipelines — everyone who signs in reads them; admins add them. */
export function pipelinesRouter(deps: { edits: DealEditsService }): Router {
  const r = Router();
  r.get("/", async (_req, res) => {
    res.json(await deps.edits.listPipelines());
  });
  r.post("/", requireRole("admin"), async (req, res) => {
    res.status(201).json(await deps.edits.createPipeline(actorOf(req.principal), req.body, String(req.id)));
  });
  return r;
}
