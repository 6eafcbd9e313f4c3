import express, { type Express } from "express";
import { join } from "node:path";
import { rateLimit } from "express-rate-limit";
import helmet from "helmet";
import type { Container } from "./container";
import { demoRouter } from "./demo";
import { crmApiRouter, requireRole } from "./crm";
import { callsRouter, DEMO_TWILIO_PATH, demoCallsRouter, demoMediaRouter } from "./telephony";
import { AppError } from "./platform/errors";
import { errorHandler, notFoundHandler } from "./platform/http/errors";
import { requestLogger } from "./platform/http/request-context";
import { healthRouter } from "./platform/http/health";
import { ipAllowlist } from "./platform/http/ip-allowlist";
import { consoleSite } from "./platform/http/console-site";
import { projectRoot } from "./platform/paths";
import { openApiDocument } from "./openapi";
import { marketingReportsRouter, publicTrackingRouter, trackingAdminRouter } from "./tracking";
import { inboxAdminRouter, pbxRouter, trackingWebhookRouter, twilioRouter } from "./webhooks";

export const API_BODY_LIMIT = "256kb";

/** The HTTP app, fully wired but not listening: tests and the server use the same one. */
export function createApp(c: Container): Express {
  const app = express();
  app.disable("x-powered-by");
  if (c.config.trustProxy) app.set("trust proxy", c.config.trustProxy);
  app.use(requestLogger(c.log, (req, res, seconds) => c.metrics.observeHttp(req, res, seconds)));

  // Webhooks come first, before the browser-facing security headers: providers are servers, and
  // these routes take the most requests.
  app.use(
    "/webhooks/twilio",
    twilioRouter({
      publicUrl: c.config.publicUrl,
      authToken: c.config.twilio.authToken,
      intake: c.intake,
      router: c.telephony.router,
      texts: { voicemailGreeting: c.config.routing.voicemailGreeting, unavailableMessage: c.config.routing.unavailableMessage },
      count: (route, result) => c.metrics.webhooks.inc({ route: `twilio.${route}`, result }),
    }),
  );

  app.use(
    "/webhooks/pbx",
    pbxRouter({ secret: c.config.pbxWebhookSecret, intake: c.intake, count: (result) => c.metrics.webhooks.inc({ route: "pbx", result }) }),
  );

  app.use(
    "/webhooks/tracking",
    trackingWebhookRouter({
      secrets: c.config.trackingWebhookSecrets,
      defaultRegion: c.config.defaultRegion,
      intake: c.intake,
      count: (provider, result) => c.metrics.webhooks.inc({ route: `tracking.${provider}`, result }),
    }),
  );

  // The console loads only its own files and talks only to this origin ('self': fetch, Socket.IO,
  // media). Its URLs are all relative, so upgrade-insecure-requests adds nothing but would break
  // it when reached over plain http on a private address (a local demo, an agent's LAN).
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  app.use(healthRouter({ ready: c.ready, metrics: c.metrics }));
  app.get("/api/openapi.json", (_req, res) => {
    res.json(openApiDocument());
  });

  const loginLimiter = rateLimit({
    windowMs: 15 * 60_000,
    limit: 20,
    skipSuccessfulRequests: true,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    handler: (_req, _res, next) => next(new AppError("rate_limited", "Too many attempts; try again later")),
  });
  // Before the authenticated /api routes: websites call these without a token.
  app.use(publicTrackingRouter({ sessions: c.tracking.sessions, sessionsPerMinute: c.config.trackingSessionsPerMinute }));
  if (c.config.apiAllowedIps) app.use("/api", ipAllowlist(c.config.apiAllowedIps));
  app.use("/api", express.json({ limit: API_BODY_LIMIT, strict: true }), crmApiRouter(c.crm, { loginLimiter }));
  app.use(
    "/api/calls",
    c.crm.authenticated,
    callsRouter({
      calls: c.telephony.calls,
      recordings: c.telephony.recordings,
      clickToCall: c.telephony.clickToCall,
      allowed: requireRole("agent", "supervisor", "admin"),
      callers: requireRole("agent", "supervisor"),
      issueLink: (who, path) => c.crm.auth.issueLink(who, path),
    }),
  );

  app.use("/api/inbox", c.crm.authenticated, inboxAdminRouter({ inbox: c.inboxAdmin }));
  app.use("/api/tracking", c.crm.authenticated, trackingAdminRouter({ numbers: c.tracking.numbers }));
  app.use("/api/reports", c.crm.authenticated, marketingReportsRouter({ reports: c.tracking.reports }));

  if (c.config.twilio.demoMedia) {
    // Embedded mode with no Twilio account: what `npm run simulate` needs to show the product.
    const { accountSid, authToken } = c.config.twilio;
    app.use(DEMO_TWILIO_PATH, demoMediaRouter({ accountSid: accountSid!, authToken: authToken!, dir: join(c.config.dataDir, "demo-media") }));
    app.use(DEMO_TWILIO_PATH, demoCallsRouter({ accountSid: accountSid!, authToken: authToken!, log: c.log, stepMs: c.config.demoStepMs }));
    app.use("/dev", demoRouter(c));
  }

  app.use(consoleSite(join(projectRoot(), "dist", "console")));
  app.use(notFoundHandler);
  app.use(errorHandler(c.log));
  return app;
}
