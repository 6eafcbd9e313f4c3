import { Router } from "express";
import type { Metrics } from "../metrics";

export interface Readiness {
  database: boolean;
  queue: boolean;
}

/** Liveness, readiness (database and queue answer) and Prometheus metrics. */
export function healthRouter(deps: { ready: () => Promise<Readiness>; metrics: Metrics }): Router {
  const r = Router();
  r.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  r.get("/readyz", async (_req, res) => {
    const checks = await deps.ready();
    const ok = checks.database && checks.queue;
    res.status(ok ? 200 : 503).json({ status: ok ? "ready" : "unavailable", checks });
  });
  r.get("/metrics", async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return r;
}
