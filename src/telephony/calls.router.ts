import { Router, type RequestHandler } from "express";
import type { CallsQuery } from "./calls.query";

/** GET /api/calls, GET /api/calls/:id — for the people who work the calls (not marketers). */
export function callsRouter(deps: { calls: CallsQuery; allowed: RequestHandler }): Router {
  const r = Router();
  r.get("/", deps.allowed, async (req, res) => {
    res.json(await deps.calls.list(req.query));
  });
  r.get("/:id", deps.allowed, async (req, res) => {
    res.json(await deps.calls.get(String(req.params.id)));
  });
  return r;
}
