import { join } from "node:path";
import type { DataSource, EntityManager } from "typeorm";
import type { Crm } from "../crm";
import type { Tracking } from "../tracking";
import { CallIngestService } from "./ingest/call-ingest.service";
import { CallRouter } from "./routing/call-router";
import { CallsQuery } from "./calls.query";
import { RecordingMedia } from "./recordings/recording-media";
import { RecordingPlayback } from "./recordings/recording-playback";
import { ClickToCallService, type AttemptResult } from "./outbound/click-to-call.service";
import { TwilioCalls } from "./outbound/twilio-calls";
import { LiveListening, type ListenHooks } from "./listening/live-listening.service";
import type { Logger } from "../platform/logger";

export interface TelephonyConfig {
  defaultRegion: string;
  callbackSlaMinutes: number;
  routing: { ringTimeoutSeconds: number; ownerRingSeconds: number; whenNobodyAnswers: "voicemail" | "message" };
  twilio: { accountSid: string | undefined; authToken: string | undefined; apiBase: string };
  recordings: { mediaHosts: string[]; copy: boolean };
  dataDir: string;
  publicUrl: string;
  outbound: { callerId: string | undefined; perUserPerHour: number; perHour: number; ringSeconds: number };
}

export interface Telephony {
  ingest: CallIngestService;
  router: CallRouter;
  calls: CallsQuery;
  recordings: RecordingPlayback;
  clickToCall: ClickToCallService;
  listening: LiveListening;
  /** Two contacts became one: their calls follow. */
  contactsMerged(em: EntityManager, from: string, into: string): Promise<void>;
}

export function createTelephony(deps: {
  ds: DataSource;
  crm: Crm;
  tracking: Tracking;
  config: TelephonyConfig;
  log: Logger;
  countOutbound?: (result: AttemptResult) => void;
  listenHooks?: ListenHooks;
}): Telephony {
  const { crm, config } = deps;
  const twilio = new TwilioCalls(config.twilio);
  const ingest = new CallIngestService({
    contacts: crm.contacts,
    callers: crm.callers,
    tasks: crm.callBackTasks,
    agents: crm.agents,
    attribution: deps.tracking.attribution,
    events: crm.outboundEvents,
    audit: crm.audit,
    defaultRegion: config.defaultRegion,
    callbackSlaMinutes: config.callbackSlaMinutes,
  });
  const calls = new CallsQuery(deps.ds);
  return {
    ingest,
    clickToCall: new ClickToCallService({
      ds: deps.ds,
      ingest,
      calls,
      twilio,
      audit: crm.audit,
      contacts: crm.contacts,
      log: deps.log,
      config,
      count: deps.countOutbound ?? (() => undefined),
    }),
    listening: new LiveListening({
      ds: deps.ds,
      twilio,
      audit: crm.audit,
      publicUrl: config.publicUrl,
      log: deps.log,
      hooks: deps.listenHooks ?? { started: () => undefined, refused: () => undefined, ended: () => undefined },
    }),
    router: new CallRouter(crm.agents, { ...config.routing, defaultRegion: config.defaultRegion }),
    calls,
    async contactsMerged(em, from, into) {
      await em.query(`UPDATE calls SET contact_id = $2 WHERE contact_id = $1`, [from, into]);
    },
    recordings: new RecordingPlayback(
      deps.ds,
      new RecordingMedia({
        ...config.twilio,
        mediaHosts: config.recordings.mediaHosts,
        copyDir: config.recordings.copy ? join(config.dataDir, "recordings") : undefined,
      }),
    ),
  };
}
