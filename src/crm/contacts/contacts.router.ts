import { Router } from "express";
import { requireRole } from "../auth/auth.middleware";
import type { ContactsQuery } from "./contacts.query";

/** Contacts hold personal data: agents, supervisors and admins only (marketers see aggregates). */
export function contactsRouter(deps: { contacts: ContactsQuery }): Router {
  const r = Router();
  r.use(requireRole("agent", "supervisor", "admin"));
  r.get("/", async (req, res) => {
    res.json(await deps.contacts.list(req.query));
  });
  r.get("/:id", async (req, res) => {
    res.json(await deps.contacts.get(String(req.params.id)));
  });
  return r;
}
