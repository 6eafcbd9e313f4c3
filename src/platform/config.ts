import path from "node:path";
import { z } from "zod";
import { isIpOrCidr } from "./http/ip-allowlist";

/**
 * The only reader of the environment. Every variable of the public contract is here;
 * a bad value stops startup with a message naming the variable.
 */
const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .optional();

const postgresUrl = optionalString.refine(
  (v) => v === undefined || /^postgres(ql)?:\/\//.test(v),
  "must be a postgres:// or postgresql:// URL",
);
const redisUrl = optionalString.refine(
  (v) => v === undefined || /^rediss?:\/\//.test(v),
  "must be a redis:// or rediss:// URL",
);

const envSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    PUBLIC_URL: optionalString.refine(
      (v) => v === undefined || /^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(v),
      "must be an absolute http(s) URL without query or fragment",
    ),
    DATABASE_URL: postgresUrl,
    DATA_DIR: z.string().trim().min(1).default("./data"),
    REDIS_URL: redisUrl,
    TWILIO_ACCOUNT_SID: optionalString.refine(
      (v) => v === undefined || /^AC[0-9a-fA-F]{32}$/.test(v),
      "must look like AC followed by 32 hex characters",
    ),
    TWILIO_AUTH_TOKEN: optionalString,
    TWILIO_API_BASE: z.url({ protocol: /^https?$/ }).default("https://api.twilio.com"),
    RECORDING_MEDIA_HOSTS: z
      .string()
      .trim()
      .regex(/^(\*\.)?[A-Za-z0-9.-]+(,(\*\.)?[A-Za-z0-9.-]+)*$/, "must be a comma-separated list of host names (a leading *. matches subdomains)")
      .default("*.twilio.com"),
    RECORDING_COPY: z.enum(["true", "false"]).default("false"),
    PBX_WEBHOOK_SECRET: optionalString.refine(
      (v) => v === undefined || /^whsec_[A-Za-z0-9+/=]{16,}$/.test(v),
      "must be whsec_ followed by a base64 secret",
    ),
    TRACKING_WEBHOOK_SECRET: optionalString.refine(
      (v) => v === undefined || /^whsec_[A-Za-z0-9+/=]{16,}$/.test(v),
      "must be whsec_ followed by a base64 secret",
    ),
    CALLRAIL_WEBHOOK_SECRET: optionalString.refine((v) => v === undefined || v.length >= 16, "must be at least 16 characters (CallRail's signing key)"),
    JWT_SECRET: optionalString.refine(
      (v) => v === undefined || v.length >= 32,
      "must be at least 32 characters",
    ),
    JWT_TTL_MINUTES: z.coerce.number().int().min(5).max(7 * 24 * 60).default(12 * 60),
    DEFAULT_REGION: z
      .string()
      .trim()
      .regex(/^[A-Za-z]{2}$/, "must be a two-letter ISO country code")
      .transform((v) => v.toUpperCase())
      .default("US"),
    CALLBACK_SLA_MINUTES: z.coerce.number().int().min(1).max(7 * 24 * 60).default(15),
    RING_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(120).default(20),
    OWNER_RING_SECONDS: z.coerce.number().int().min(5).max(60).default(12),
    NO_ANSWER_ACTION: z.enum(["voicemail", "message"]).default("voicemail"),
    VOICEMAIL_GREETING: z.string().trim().min(1).max(500).default("Sorry, nobody can take your call right now. Please leave a message after the tone."),
    UNAVAILABLE_MESSAGE: z.string().trim().min(1).max(500).default("Sorry, nobody can take your call right now. We will call you back shortly."),
    STALE_RINGING_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(15),
    // At least a week: an applied delivery's key is what makes a provider's late retry a duplicate.
    DELIVERY_RETENTION_DAYS: z.coerce.number().int().min(7).max(3650).default(30),
    PUSH_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
    TRACKING_SESSION_RETENTION_DAYS: z.coerce.number().int().min(7).max(3650).default(90),
    PRESENCE_CHECK_SECONDS: z.coerce.number().int().min(0).max(3600).refine((n) => n === 0 || n >= 5, "0 (off) or at least 5").default(60),
    OUTBOUND_CALLER_ID: z
      .string()
      .trim()
      .regex(/^\+[1-9]\d{6,14}$/, "must be an E.164 number such as +15005550100")
      .optional(),
    OUTBOUND_CALLS_PER_USER_PER_HOUR: z.coerce.number().int().min(1).max(10_000).default(40),
    OUTBOUND_CALLS_PER_HOUR: z.coerce.number().int().min(1).max(1_000_000).default(400),
    OUTBOUND_RING_SECONDS: z.coerce.number().int().min(5).max(120).default(30),
    DEMO_STEP_MS: z.coerce.number().int().min(1).max(10_000).default(1000),
    LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
    LOGIN_LOCKOUT_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(15),
    API_ALLOWED_IPS: optionalString.refine((v) => v === undefined || v.split(",").every(isIpOrCidr), "must be a comma-separated list of IP addresses or CIDR ranges"),
    TRACKING_SESSIONS_PER_MINUTE: z.coerce.number().int().min(1).max(10_000_000).default(60),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    TRUST_PROXY: optionalString,
    SERVICE_ROLE: z.enum(["all", "web"]).default("all"),
    DB_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20),
    DB_PREPARED_STATEMENTS: z.enum(["true", "false"]).default("true"),
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(64),
    QUEUE_PREFIX: z.string().trim().regex(/^[A-Za-z0-9_-]{1,40}$/, "must be 1-40 letters, digits, _ or -").default("crm"),
  })
  .superRefine((env, ctx) => {
    if (env.SERVICE_ROLE === "web" && !env.REDIS_URL) {
      ctx.addIssue({ code: "custom", path: ["SERVICE_ROLE"], message: "web needs REDIS_URL, so that worker processes can run the jobs" });
    }
    if (env.DATABASE_URL && !env.JWT_SECRET) {
      ctx.addIssue({
        code: "custom",
        path: ["JWT_SECRET"],
        message: "is required in production mode (DATABASE_URL is set)",
      });
    }
  });

export type Mode = "embedded" | "production";

export interface Config {
  mode: Mode;
  nodeEnv: "development" | "production" | "test";
  port: number;
  publicUrl: string;
  databaseUrl: string | undefined;
  dataDir: string;
  redisUrl: string | undefined;
  twilio: {
    accountSid: string | undefined;
    authToken: string | undefined;
    apiBase: string;
    /** Embedded mode with the development token: recordings come from the built-in demo media. */
    demoMedia: boolean;
  };
  recordings: {
    /** Hosts a media request may be redirected to (besides TWILIO_API_BASE's own); `*.` matches subdomains. */
    mediaHosts: string[];
    /** Keep a copy of each recording played under DATA_DIR/recordings, so playback outlives the provider's retention. */
    copy: boolean;
  };
  pbxWebhookSecret: string | undefined;
  /** Secrets of the call-tracking provider webhooks; an unset one makes its route answer 503. */
  trackingWebhookSecrets: { generic: string | undefined; callrail: string | undefined };
  jwt: { secret: string | undefined; ttlMinutes: number };
  defaultRegion: string;
  callbackSlaMinutes: number;
  routing: {
    ringTimeoutSeconds: number;
    ownerRingSeconds: number;
    whenNobodyAnswers: "voicemail" | "message";
    voicemailGreeting: string;
    unavailableMessage: string;
    /** A call still ringing after this long is finalised as missed by the sweeper. */
    staleRingingMinutes: number;
  };
  /** Click-to-call: the caller id customers see by default, and limits against cost abuse. */
  outbound: { callerId: string | undefined; perUserPerHour: number; perHour: number; ringSeconds: number };
  /** Demo mode: one step of a click-to-call the stand-in for Twilio plays out (ringing, answering…). */
  demoStepMs: number;
  /** Failed sign-ins in a row that lock an account, and for how long. */
  lockout: { maxFailures: number; lockMinutes: number };
  /** How often agents presence counts as connected are looked for in the cluster's connections; 0: never. */
  presenceCheckMs: number;
  /** How long what is done with is kept (docs/decisions/0015-retention.md). */
  retention: {
    /** Applied or ignored inbox deliveries, and the outbound webhooks' delivery log. */
    deliveryDays: number;
    /** Dispatched outbox rows, and screen-pops with their cards. */
    pushDays: number;
    /** Website sessions not seen since, and pool exhaustions. */
    trackingSessionDays: number;
  };
  /** When set, /api is answered only to these addresses or ranges (the website's session route excepted). */
  apiAllowedIps: string[] | undefined;
  /** Session leases one client address may ask for per minute (POST /api/tracking/sessions). */
  trackingSessionsPerMinute: number;
  logLevel: string;
  trustProxy: string | undefined;
  /** `web` serves HTTP only and leaves jobs to `npm run worker` processes (needs REDIS_URL). */
  serviceRole: "all" | "web";
  dbPoolSize: number;
  /** Hot statements prepared once per connection (off behind a pooler that cannot keep them). */
  dbPreparedStatements: boolean;
  /** Inbox deliveries one process applies at once. */
  workerConcurrency: number;
  /** Redis key prefix of the queues, so deployments can share one Redis. */
  queuePrefix: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join(".") || "environment"} ${i.message}`),
    );
  }
  const e = parsed.data;
  return {
    mode: e.DATABASE_URL ? "production" : "embedded",
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ""),
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.DATA_DIR),
    redisUrl: e.REDIS_URL,
    twilio: {
      accountSid: e.TWILIO_ACCOUNT_SID,
      authToken: e.TWILIO_AUTH_TOKEN,
      apiBase: e.TWILIO_API_BASE.replace(/\/+$/, ""),
      demoMedia: false,
    },
    recordings: { mediaHosts: e.RECORDING_MEDIA_HOSTS.split(",").map((h) => h.toLowerCase()), copy: e.RECORDING_COPY === "true" },
    pbxWebhookSecret: e.PBX_WEBHOOK_SECRET,
    trackingWebhookSecrets: { generic: e.TRACKING_WEBHOOK_SECRET, callrail: e.CALLRAIL_WEBHOOK_SECRET },
    jwt: { secret: e.JWT_SECRET, ttlMinutes: e.JWT_TTL_MINUTES },
    defaultRegion: e.DEFAULT_REGION,
    callbackSlaMinutes: e.CALLBACK_SLA_MINUTES,
    routing: {
      ringTimeoutSeconds: e.RING_TIMEOUT_SECONDS,
      ownerRingSeconds: e.OWNER_RING_SECONDS,
      whenNobodyAnswers: e.NO_ANSWER_ACTION,
      voicemailGreeting: e.VOICEMAIL_GREETING,
      unavailableMessage: e.UNAVAILABLE_MESSAGE,
      staleRingingMinutes: e.STALE_RINGING_MINUTES,
    },
    demoStepMs: e.DEMO_STEP_MS,
    outbound: {
      callerId: e.OUTBOUND_CALLER_ID,
      perUserPerHour: e.OUTBOUND_CALLS_PER_USER_PER_HOUR,
      perHour: e.OUTBOUND_CALLS_PER_HOUR,
      ringSeconds: e.OUTBOUND_RING_SECONDS,
    },
    trackingSessionsPerMinute: e.TRACKING_SESSIONS_PER_MINUTE,
    lockout: { maxFailures: e.LOGIN_MAX_FAILURES, lockMinutes: e.LOGIN_LOCKOUT_MINUTES },
    presenceCheckMs: e.PRESENCE_CHECK_SECONDS * 1000,
    retention: { deliveryDays: e.DELIVERY_RETENTION_DAYS, pushDays: e.PUSH_RETENTION_DAYS, trackingSessionDays: e.TRACKING_SESSION_RETENTION_DAYS },
    apiAllowedIps: e.API_ALLOWED_IPS?.split(",").map((v) => v.trim()),
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    serviceRole: e.SERVICE_ROLE,
    queuePrefix: e.QUEUE_PREFIX,
    dbPoolSize: e.DB_POOL_SIZE,
    dbPreparedStatements: e.DB_PREPARED_STATEMENTS === "true",
    workerConcurrency: e.WORKER_CONCURRENCY,
  };
}
