import { Router } from "express";
import { sendCsv } from "../../platform/http/csv";
import { requireRole } from "../auth/auth.middleware";
import { AGENT_COLUMNS, FUNNEL_COLUMNS, MISSED_COLUMNS, type OperationsReports } from "./operations-reports";

/** /reports/funnel (supervisors, marketers, admins), /reports/agents and /reports/missed-calls (supervisors, admins); each with format=csv. */
export function operationsReportsRouter(deps: { reports: OperationsReports }): Router {
  const r = Router();
  r.get("/funnel", requireRole("supervisor", "marketer", "admin"), async (req, res) => {
    const report = await deps.reports.funnel(req.query);
    if (req.query.format === "csv") return sendCsv(res, "funnel.csv", FUNNEL_COLUMNS, report.items);
    res.json(report);
  });
  r.get("/agents", requireRole("supervisor", "admin"), async (req, res) => {
    const report = await deps.reports.agents(req.query);
    if (req.query.format === "csv") return sendCsv(res, "agents.csv", AGENT_COLUMNS, report.items);
    res.json(report);
  });
  r.get("/missed-calls", requireRole("supervisor", "admin"), async (req, res) => {
    const report = await deps.reports.missedCalls(req.query);
    if (req.query.format === "csv") return sendCsv(res, "missed-calls.csv", MISSED_COLUMNS, report.items);
    res.json(report);
  });
  return r;
}
