import { Router, type RequestHandler } from "express";
import { actorOf } from "../audit/audit.service";
import { requireRole } from "../auth/auth.middleware";
import type { NotesService } from "./notes.service";

/** POST /contacts/:id/notes, POST /calls/:id/notes, PUT /calls/:id/disposition. */
export function notesRouter(deps: { notes: NotesService; authenticated: RequestHandler }): Router {
  const r = Router();
  // Authenticated per route: this router is mounted at the root of /api.
  const workers = [deps.authenticated, requireRole("agent", "supervisor", "admin")];
  r.post("/contacts/:id/notes", ...workers, async (req, res) => {
    res.status(201).json(await deps.notes.add(req.principal!, actorOf(req.principal), { contactId: String(req.params.id) }, req.body, String(req.id)));
  });
  r.post("/calls/:id/notes", ...workers, async (req, res) => {
    res.status(201).json(await deps.notes.add(req.principal!, actorOf(req.principal), { callId: String(req.params.id) }, req.body, String(req.id)));
  });
  r.put("/calls/:id/disposition", ...workers, async (req, res) => {
    res.json(await deps.notes.setDisposition(req.principal!, actorOf(req.principal), String(req.params.id), req.body, String(req.id)));
  });
  return r;
}
