import type { DataSource } from "typeorm";
import type { AuditService } from "../crm";
import { CallAttributionService } from "./attribution/call-attribution.service";
import { TrackingNumbersService } from "./numbers/tracking-numbers.service";
import { MarketingReports } from "./reports/marketing-reports";
import { TrackingSessionsService } from "./sessions/tracking-sessions.service";

export interface Tracking {
  numbers: TrackingNumbersService;
  sessions: TrackingSessionsService;
  attribution: CallAttributionService;
  reports: MarketingReports;
}

export function createTracking(deps: { ds: DataSource; audit: AuditService; defaultRegion: string }): Tracking {
  return {
    numbers: new TrackingNumbersService(deps.ds, deps.audit, deps.defaultRegion),
    sessions: new TrackingSessionsService(deps.ds),
    attribution: new CallAttributionService(),
    reports: new MarketingReports(deps.ds),
  };
}
