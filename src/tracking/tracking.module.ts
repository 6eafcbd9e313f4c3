import type { DataSource, EntityManager } from "typeorm";
import type { Crm } from "../crm";
import { CallAttributionService } from "./attribution/call-attribution.service";
import { TrackingNumbersService } from "./numbers/tracking-numbers.service";
import { ProviderCallsService } from "./providers/provider-calls.service";
import { MarketingReports } from "./reports/marketing-reports";
import { mergeCallers } from "./reports/report-columns";
import { TrackingSessionsService } from "./sessions/tracking-sessions.service";

export interface Tracking {
  numbers: TrackingNumbersService;
  sessions: TrackingSessionsService;
  attribution: CallAttributionService;
  providerCalls: ProviderCallsService;
  reports: MarketingReports;
  /** Two contacts became one: the reports count them as one caller. */
  contactsMerged(em: EntityManager, from: string, into: string): Promise<void>;
}

export function createTracking(deps: { ds: DataSource; crm: Crm; defaultRegion: string }): Tracking {
  const attribution = new CallAttributionService(deps.crm.contacts, deps.crm.deals);
  return {
    numbers: new TrackingNumbersService(deps.ds, deps.crm.audit, deps.defaultRegion),
    sessions: new TrackingSessionsService(deps.ds),
    attribution,
    providerCalls: new ProviderCallsService(attribution, deps.defaultRegion),
    reports: new MarketingReports(deps.ds),
    contactsMerged: (em, from, into) => mergeCallers(em, from, into),
  };
}
