import type { DataSource } from "typeorm";
import type { Crm } from "../crm";
import type { Tracking } from "../tracking";
import { CallIngestService } from "./ingest/call-ingest.service";
import { CallRouter } from "./routing/call-router";
import { CallsQuery } from "./calls.query";

export interface TelephonyConfig {
  defaultRegion: string;
  callbackSlaMinutes: number;
  routing: { ringTimeoutSeconds: number; ownerRingSeconds: number; whenNobodyAnswers: "voicemail" | "message" };
}

export interface Telephony {
  ingest: CallIngestService;
  router: CallRouter;
  calls: CallsQuery;
}

export function createTelephony(deps: { ds: DataSource; crm: Crm; tracking: Tracking; config: TelephonyConfig }): Telephony {
  const { crm, config } = deps;
  return {
    ingest: new CallIngestService({
      contacts: crm.contacts,
      deals: crm.deals,
      tasks: crm.callBackTasks,
      agents: crm.agents,
      attribution: deps.tracking.attribution,
      defaultRegion: config.defaultRegion,
      callbackSlaMinutes: config.callbackSlaMinutes,
    }),
    router: new CallRouter(deps.ds, crm.agents, crm.contacts, { ...config.routing, defaultRegion: config.defaultRegion }),
    calls: new CallsQuery(deps.ds),
  };
}
