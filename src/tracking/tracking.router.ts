import express, { Router, type RequestHandler } from "express";
import { rateLimit } from "express-rate-limit";
import { readFileSync } from "node:fs";
import { requireRole } from "../crm";
import { AppError } from "../platform/errors";
import { sendCsv } from "../platform/http/csv";
import { publicFile } from "../platform/paths";
import type { TrackingNumbersService } from "./numbers/tracking-numbers.service";
import { ATTRIBUTION_COLUMNS, POOL_COLUMNS, type MarketingReports } from "./reports/marketing-reports";
import type { TrackingSessionsService } from "./sessions/tracking-sessions.service";

/** Session requests come from any website's visitors: small bodies, no cookies, no credentials. */
const SESSION_BODY_LIMIT = "8kb";

/**
 * Routes websites call without a token: POST /api/tracking/sessions (CORS, rate-limited) and
 * GET /tracking.js. Both may be loaded cross-origin, so the resource policy says so.
 */
export function publicTrackingRouter(deps: { sessions: TrackingSessionsService; sessionsPerMinute: number }): Router {
  const r = Router();
  const crossOrigin: RequestHandler = (_req, res, next) => {
    res.setHeader("Access-Control-Allow-Origin", "*");
    res.setHeader("Cross-Origin-Resource-Policy", "cross-origin");
    next();
  };
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: deps.sessionsPerMinute,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    handler: (_req, _res, next) => next(new AppError("rate_limited", "Too many session requests; try again later")),
  });

  r.options("/api/tracking/sessions", crossOrigin, (_req, res) => {
    res.setHeader("Access-Control-Allow-Methods", "POST");
    res.setHeader("Access-Control-Allow-Headers", "Content-Type");
    res.setHeader("Access-Control-Max-Age", "86400");
    res.status(204).end();
  });
  // text/plain too: a browser sends that cross-origin without a preflight round trip.
  r.post(
    "/api/tracking/sessions",
    crossOrigin,
    limiter,
    express.json({ limit: SESSION_BODY_LIMIT, strict: true, type: ["application/json", "text/plain"] }),
    async (req, res) => {
      res.setHeader("Cache-Control", "no-store");
      res.json(await deps.sessions.lease(req.body));
    },
  );

  const script = readFileSync(publicFile("tracking.js"), "utf8");
  r.get("/tracking.js", crossOrigin, (_req, res) => {
    res.setHeader("Content-Type", "application/javascript; charset=utf-8");
    res.setHeader("Cache-Control", "public, max-age=300");
    res.send(script);
  });
  return r;
}

/** Admin settings under /api/tracking (the caller mounts it behind authentication). */
export function trackingAdminRouter(deps: { numbers: TrackingNumbersService }): Router {
  const r = Router();
  r.get("/numbers", requireRole("admin", "marketer"), async (_req, res) => {
    res.json(await deps.numbers.listNumbers());
  });
  r.post("/numbers", requireRole("admin"), async (req, res) => {
    res.status(201).json(await deps.numbers.createNumber(req.principal!, req.body, String(req.id)));
  });
  r.delete("/numbers/:id", requireRole("admin"), async (req, res) => {
    res.json(await deps.numbers.deactivateNumber(req.principal!, String(req.params.id), String(req.id)));
  });
  r.get("/pools", requireRole("admin", "marketer"), async (_req, res) => {
    res.json(await deps.numbers.listPools());
  });
  r.post("/pools", requireRole("admin"), async (req, res) => {
    res.status(201).json(await deps.numbers.createPool(req.principal!, req.body, String(req.id)));
  });
  r.patch("/pools/:id", requireRole("admin"), async (req, res) => {
    res.json(await deps.numbers.updatePool(req.principal!, String(req.params.id), req.body, String(req.id)));
  });
  return r;
}

/** Marketing reports under /api/reports, for marketers and admins. */
export function marketingReportsRouter(deps: { reports: MarketingReports }): Router {
  const r = Router();
  r.use(["/attribution", "/pools"], requireRole("marketer", "admin"));
  r.get("/attribution", async (req, res) => {
    const report = await deps.reports.attribution(req.query);
    if (req.query.format === "csv") return sendCsv(res, `attribution-by-${report.groupBy}.csv`, ATTRIBUTION_COLUMNS, report.items);
    res.json(report);
  });
  r.get("/pools", async (req, res) => {
    const report = await deps.reports.pools(req.query);
    if (req.query.format === "csv") return sendCsv(res, "pools.csv", POOL_COLUMNS, report.items);
    res.json(report);
  });
  return r;
}
