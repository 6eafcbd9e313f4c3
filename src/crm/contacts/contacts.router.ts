import { Router } from "express";
import { actorOf } from "../audit/audit.service";
import { requireRole } from "../auth/auth.middleware";
import type { ContactEditsService } from "./contact-edits.service";
import type { ContactsQuery } from "./contacts.query";

/** Contacts hold personal data: agents, supervisors and admins only (marketers see aggregates). */
export function contactsRouter(deps: { contacts: ContactsQuery; edits: ContactEditsService }): Router {
  const r = Router();
  r.use(requireRole("agent", "supervisor", "admin"));
  r.get("/", async (req, res) => {
    res.json(await deps.contacts.list(req.query));
  });
  r.post("/", async (req, res) => {
    res.status(201).json(await deps.edits.create(actorOf(req.principal), req.body, String(req.id)));
  });
  r.get("/:id", async (req, res) => {
    res.json(await deps.contacts.get(String(req.params.id)));
  });
  r.patch("/:id", async (req, res) => {
    res.json(await deps.edits.update(actorOf(req.principal), String(req.params.id), req.body, String(req.id)));
  });
  // Merging folds one person's history into another's: supervisors decide.
  r.post("/:id/merge", requireRole("supervisor", "admin"), async (req, res) => {
    res.json(await deps.edits.merge(actorOf(req.principal), String(req.params.id), req.body, String(req.id)));
  });
  return r;
}
