import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import { createApp } from "./app";
import { startJobs } from "./jobs";
import { OutboxDispatcher, PopStore, Realtime, userRoom } from "./realtime";
import { buildContainer, type Container, type ResolvedConfig } from "./container";
import type { Config } from "./platform/config";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./platform/db/embedded-postgres";
import { migrate } from "./platform/db/migrate";
import { loadOrCreateDevSecrets } from "./platform/dev-secrets";
import { createLogger, type Logger } from "./platform/logger";
import { attachMediaStreams, DEMO_ACCOUNT_SID, DEMO_TWILIO_PATH } from "./telephony";

/** web: HTTP only; worker: jobs only; all: both (embedded mode, or a single small host). */
export type Role = "web" | "worker" | "all";

export interface Service {
  container: Container;
  app: Express | undefined;
  server: http.Server | undefined;
  /** Base URL the HTTP server listens on (undefined for a worker). */
  url: string | undefined;
  realtime: Realtime;
  stop(): Promise<void>;
}

export interface StartOptions {
  role: Role;
  log?: Logger;
  /** Port to listen on; 0 picks a free one (tests). Defaults to config.port. */
  port?: number;
  queuePrefix?: string;
}

/**
 * Resolves what embedded mode supplies itself: a PostgreSQL under DATA_DIR and secrets
 * generated once into DATA_DIR. Production mode passes its configuration through untouched.
 */
export async function resolveRuntime(
  config: Config,
  log: Logger,
): Promise<{ config: ResolvedConfig; embedded: EmbeddedPostgres | undefined }> {
  if (config.mode === "production") {
    return { config: { ...config, databaseUrl: config.databaseUrl!, jwt: { ...config.jwt, secret: config.jwt.secret! } }, embedded: undefined };
  }
  const secrets = loadOrCreateDevSecrets(config.dataDir);
  // Embedded mode is exactly "no DATABASE_URL".
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, log });
  return {
    config: {
      ...config,
      databaseUrl: embedded.url,
      jwt: { ...config.jwt, secret: config.jwt.secret ?? secrets.jwtSecret },
      twilio: config.twilio.authToken ? config.twilio : demoTwilio(config, secrets.twilioAuthToken),
    },
    embedded,
  };
}

/**
 * No Twilio account configured in embedded mode: webhooks are signed with the development token
 * (shared with `npm run simulate`) and recordings are played from the service's demo media.
 */
function demoTwilio(config: Config, devToken: string): Config["twilio"] {
  return {
    accountSid: config.twilio.accountSid ?? DEMO_ACCOUNT_SID,
    authToken: devToken,
    apiBase: `${config.publicUrl}${DEMO_TWILIO_PATH}`,
    demoMedia: true,
  };
}

export async function startService(rawConfig: Config, opts: StartOptions): Promise<Service> {
  const log = opts.log ?? createLogger(rawConfig.logLevel);
  const { config, embedded } = await resolveRuntime(rawConfig, log);
  let container: Container | undefined;
  try {
    container = await buildContainer(config, log, { queuePrefix: opts.queuePrefix ?? config.queuePrefix });
    await migrate(container.ds, log);
    return await serve(container, opts, async () => embedded?.stop());
  } catch (err) {
    await container?.close().catch(() => undefined);
    await embedded?.stop();
    throw err;
  }
}

async function serve(container: Container, opts: StartOptions, afterClose: () => Promise<void>): Promise<Service> {
  const { log, config } = container;
  let app: Express | undefined;
  let server: http.Server | undefined;
  let url: string | undefined;

  if (opts.role !== "worker") {
    app = createApp(container);
    server = http.createServer(app);
    // Slowloris guard; keep-alive shorter than typical proxy idle timeouts is the usual advice.
    server.headersTimeout = 15_000;
    server.requestTimeout = 30_000;
    const srv = server;
    await new Promise<void>((resolve, reject) => {
      srv.once("error", reject);
      srv.listen(opts.port ?? config.port, () => resolve());
    });
    url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    log.info({ url, mode: config.mode, queue: container.queue.kind }, "listening");
  }

  // Every process joins the realtime cluster: web processes hold the agents' sockets, workers
  // emit through the adapter (in embedded mode it is all one process).
  const pops = new PopStore(container.ds);
  const realtime = new Realtime(
    {
      auth: container.crm.auth,
      presence: container.crm.presence,
      callContext: container.crm.callContext,
      pops,
      log,
      redisUrl: config.redisUrl,
      queuePrefix: opts.queuePrefix ?? config.queuePrefix,
      listening: container.telephony.listening,
    },
    server,
  );
  await realtime.ready();
  // A user deactivated or given another role: their tokens stop working, and so do their sockets.
  container.crm.users.onAccessRevoked((userId) => realtime.io.in(userRoom(userId)).disconnectSockets(true));
  // Twilio Media Streams (live listening) reach web processes on raw `ws`; their audio goes to
  // the listeners' sockets, wherever those are connected.
  const mediaStreams = server
    ? attachMediaStreams(server, {
        publicUrl: config.publicUrl,
        authToken: config.twilio.authToken,
        wanted: (callId, streamSid) => container.telephony.listening.wanted(callId, streamSid),
        audio: (frame) => realtime.relayAudio(frame),
        // The listeners are told even when their sessions could not be ended (the sweep ends them
        // once the call is over): the audio has stopped either way.
        ended: (callId, streamSid, reason) =>
          void container.telephony.listening
            .streamEnded(streamSid, reason)
            .catch((err: Error) => log.warn({ err: err.message, callId }, "ending listen sessions failed"))
            .finally(() => realtime.listenEnded(callId, reason)),
        count: (result) => container.metrics.mediaFrames.inc({ result }),
        log,
      })
    : undefined;
  const dispatcher = new OutboxDispatcher(container.ds, container.crm.callContext, pops, realtime);
  const stopJobs = opts.role === "web" ? async () => undefined : startJobs(container, {
          dispatcher,
          presence: realtime.presenceReconciler,
          listenEnded: (callId) => realtime.listenEnded(callId, "call ended"),
        });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info("shutting down");
      // 1. Stop accepting connections (open ones finish; idle keep-alives are dropped).
      const closed = server?.listening ? new Promise<void>((resolve) => server!.once("close", () => resolve())) : Promise.resolve();
      server?.close();
      server?.closeIdleConnections();
      // 2. Let running jobs finish: they may still push to sockets.
      await container.queue.close();
      await stopJobs();
      // 3. Disconnect every socket; in-flight requests get a moment, then connections are cut.
      mediaStreams?.close();
      container.crm.users.onAccessRevoked(undefined);
      await realtime.close();
      const force = setTimeout(() => server?.closeAllConnections(), 10_000);
      await closed;
      clearTimeout(force);
      await container.close();
      await afterClose();
      log.info("stopped");
    })());

  return { container, app, server, url, realtime, stop };
}
