import { Router } from "express";
import { actorOf } from "../audit/audit.service";
import { requireRole } from "../auth/auth.middleware";
import type { OutboundWebhooksService } from "./outbound-webhooks.service";

/** /webhooks — outbound webhook subscriptions and their delivery log: admins only. */
export function outboundWebhooksRouter(deps: { webhooks: OutboundWebhooksService }): Router {
  const r = Router();
  r.use(requireRole("admin"));
  r.get("/subscriptions", async (_req, res) => {
    res.json(await deps.webhooks.list());
  });
  r.post("/subscriptions", async (req, res) => {
    res.status(201).json(await deps.webhooks.create(actorOf(req.principal), req.body, String(req.id)));
  });
  r.patch("/subscriptions/:id", async (req, res) => {
    res.json(await deps.webhooks.update(actorOf(req.principal), String(req.params.id), req.body, String(req.id)));
  });
  r.delete("/subscriptions/:id", async (req, res) => {
    await deps.webhooks.remove(actorOf(req.principal), String(req.params.id), String(req.id));
    res.status(204).end();
  });
  r.get("/deliveries", async (req, res) => {
    res.json(await deps.webhooks.deliveries(req.query));
  });
  r.post("/deliveries/:id/replay", async (req, res) => {
    res.json(await deps.webhooks.replay(actorOf(req.principal), String(req.params.id), String(req.id)));
  });
  return r;
}
