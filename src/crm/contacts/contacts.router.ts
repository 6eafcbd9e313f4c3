import { Router } from "express";
import { actorOf } from "../audit/audit.service";
import { requireRole } from "../auth/auth.middleware";
import type { ContactEditsService } from "./contact-edits.service";
import type { ContactImportService } from "./contact-import.service";
import { AppError } from "../../platform/errors";
import { limitBytes } from "../../platform/http/limit-bytes";

/** A CSV import may be large, but not unbounded. */
const IMPORT_MAX_BYTES = 100 * 1024 * 1024;
import type { ContactsQuery } from "./contacts.query";

/** Contacts hold personal data: agents, supervisors and admins only (marketers see aggregates). */
export function contactsRouter(deps: { contacts: ContactsQuery; edits: ContactEditsService; imports: ContactImportService }): Router {
  const r = Router();
  r.use(requireRole("agent", "supervisor", "admin"));
  r.get("/", async (req, res) => {
    res.json(await deps.contacts.list(req.query));
  });
  r.post("/", async (req, res) => {
    res.status(201).json(await deps.edits.create(actorOf(req.principal), req.body, String(req.id)));
  });
  // A CSV body, streamed (never read whole): supervisors and admins load lists of contacts.
  r.post("/import", requireRole("supervisor", "admin"), async (req, res) => {
    if (!req.is("text/csv")) throw new AppError("unsupported_media_type", "Send the file as text/csv");
    res.json(await deps.imports.import(actorOf(req.principal), limitBytes(req, IMPORT_MAX_BYTES), String(req.id)));
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
