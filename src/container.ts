import "reflect-metadata";
import type { DataSource } from "typeorm";
import { createCrm, crmEntities, type ContactMergeHook, type Crm } from "./crm";
import type { Config } from "./platform/config";
import { connectWithRetry, createDataSource, pingDatabase, type EntityList } from "./platform/db/data-source";
import type { Readiness } from "./platform/http/health";
import type { Logger } from "./platform/logger";
import { Metrics } from "./platform/metrics";
import { outboxEntities } from "./platform/outbox";
import { BullQueue } from "./platform/queue/bull-queue";
import { InProcessQueue } from "./platform/queue/in-process-queue";
import type { JobQueue } from "./platform/queue/jobs";
import { realtimeEntities } from "./realtime";
import { createTelephony, decodeTwilioDelivery, pbxEventSchema, pbxToCallEvents, telephonyEntities, type Telephony, type TwilioDelivery } from "./telephony";
import { createTracking, TRACKING_PROVIDERS, trackingEntities, type Tracking } from "./tracking";
import { countFailedInbox, countPendingInbox, InboxAdminService, InboxProcessor, WebhookIntake, webhooksEntities, type InboxHandler } from "./webhooks";

/** Configuration once the runtime has resolved what embedded mode supplies itself. */
export interface ResolvedConfig extends Config {
  databaseUrl: string;
  jwt: { secret: string; ttlMinutes: number };
}

export interface Container {
  config: ResolvedConfig;
  log: Logger;
  ds: DataSource;
  queue: JobQueue;
  metrics: Metrics;
  crm: Crm;
  telephony: Telephony;
  tracking: Tracking;
  intake: WebhookIntake;
  inbox: InboxProcessor;
  inboxAdmin: InboxAdminService;
  ready(): Promise<Readiness>;
  close(): Promise<void>;
}

export const allEntities: EntityList = [
  ...crmEntities,
  ...telephonyEntities,
  ...webhooksEntities,
  ...trackingEntities,
  ...realtimeEntities,
  ...outboxEntities,
];

/** The composition root: everything is built here, once, from the configuration. */
export async function buildContainer(
  config: ResolvedConfig,
  log: Logger,
  opts: { queuePrefix?: string; connectAttempts?: number } = {},
): Promise<Container> {
  const ds = await connectWithRetry(createDataSource(config.databaseUrl, allEntities, { poolSize: config.dbPoolSize, preparedStatements: config.dbPreparedStatements }), log, { attempts: opts.connectAttempts });
  const queue: JobQueue = config.redisUrl ? new BullQueue(config.redisUrl, log, opts.queuePrefix) : new InProcessQueue(log);
  const metrics = new Metrics({ queueDepth: () => queue.depth(), inboxPending: () => countPendingInbox(ds), inboxFailed: () => countFailedInbox(ds) });
  // A merge reaches past the CRM's tables: calls follow the contact, reports count one caller.
  const onContactMerge: ContactMergeHook = async (em, from, into) => {
    await telephony.contactsMerged(em, from, into);
    await tracking.contactsMerged(em, from, into);
  };
  const crm = createCrm({ ds, jwtSecret: config.jwt.secret, jwtTtlMinutes: config.jwt.ttlMinutes, defaultRegion: config.defaultRegion, onContactMerge, lockout: config.lockout });
  const tracking = createTracking({ ds, crm, defaultRegion: config.defaultRegion });
  const telephony = createTelephony({
    ds,
    crm,
    tracking,
    config,
    log,
    countOutbound: (result) => metrics.outboundCalls.inc({ result }),
    listenHooks: {
      started: () => metrics.listenSessions.inc({ result: "started" }),
      refused: () => metrics.listenSessions.inc({ result: "refused" }),
      ended: (sec) => (metrics.listenSessions.inc({ result: "ended" }), metrics.listenDuration.observe(sec)),
    },
  });
  // Each inbox source's handler: provider adapters decode, the ingest applies.
  const twilio: InboxHandler = (em, payload, d) => telephony.ingest.applyAll(em, decodeTwilioDelivery(payload as TwilioDelivery, d.receivedAt), d.inboxId);
  const handlers: Record<string, InboxHandler> = {
    "twilio.voice": twilio,
    "twilio.status": twilio,
    "twilio.dial": twilio,
    "twilio.recording": twilio,
    pbx: (em, payload, d) => telephony.ingest.applyAll(em, pbxToCallEvents(pbxEventSchema.parse((payload as { event: unknown }).event)), d.inboxId),
    ...Object.fromEntries(
      TRACKING_PROVIDERS.map((provider): [string, InboxHandler] => [
        `tracking.${provider}`,
        (em, payload, d) => tracking.providerCalls.apply(em, provider, (payload as { event: unknown }).event, d.receivedAt),
      ]),
    ),
  };

  return {
    config,
    log,
    ds,
    queue,
    metrics,
    crm,
    telephony,
    tracking,
    intake: new WebhookIntake(ds, queue, log),
    inbox: new InboxProcessor(ds, handlers, log, queue),
    inboxAdmin: new InboxAdminService(ds, crm.audit, queue, log),
    async ready() {
      const [database, queueOk] = await Promise.all([pingDatabase(ds), queue.ping()]);
      return { database, queue: queueOk };
    },
    async close() {
      await queue.close();
      if (ds.isInitialized) await ds.destroy();
    },
  };
}
