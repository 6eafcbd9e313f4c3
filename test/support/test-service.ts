import { randomBytes } from "node:crypto";
import request from "supertest";
import type { Agent } from "supertest";
import { dropQueueKeys } from "../../scripts/drop-queue-keys";
import { loadConfig } from "../../src/platform/config";
import { createLogger } from "../../src/platform/logger";
import { startService, type Role, type Service } from "../../src/service";
import { createTestDatabase, type TestDatabase } from "./test-db";

export const TEST_JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789";
export const TEST_TWILIO = { accountSid: `AC${"1".repeat(32)}`, authToken: "test-twilio-auth-token" };
export const TEST_PUBLIC_URL = "https://crm.example.test";

export interface TestService extends Service {
  db: TestDatabase;
  /** Its Bull and Socket.IO keys in Redis start with this. */
  queuePrefix: string;
  http: ReturnType<typeof request>;
  /** Creates a user and returns a bearer token for it. */
  signIn(role: "agent" | "supervisor" | "marketer" | "admin", extra?: { dialTarget?: string }): Promise<{ token: string; userId: string; email: string }>;
  close(): Promise<void>;
}

export const usesRealServices = () => Boolean(process.env.TEST_PG_ADMIN_URL && process.env.DATABASE_URL);
export const redisUrl = () => process.env.REDIS_URL;

/**
 * The whole service as production wires it, on a database of its own and (with REDIS_URL) a
 * Bull prefix of its own; listening on a free port.
 */
export async function startTestService(opts: { role?: Role; env?: Record<string, string | undefined>; demo?: boolean; port?: number } = {}): Promise<TestService> {
  const db = await createTestDatabase();
  const queuePrefix = `t${randomBytes(4).toString("hex")}`;
  const config = loadConfig({
    NODE_ENV: "test",
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl(),
    JWT_SECRET: TEST_JWT_SECRET,
    PUBLIC_URL: TEST_PUBLIC_URL,
    TWILIO_ACCOUNT_SID: TEST_TWILIO.accountSid,
    TWILIO_AUTH_TOKEN: TEST_TWILIO.authToken,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    // Tests mark agents available with no connection open (routing only reads presence); the
    // presence check would take them offline. Its own tests run it as a job.
    PRESENCE_CHECK_SECONDS: "0",
    ...opts.env,
  });
  // What embedded mode with no Twilio account turns on (the demo seed and media routes).
  if (opts.demo) config.twilio.demoMedia = true;
  const service = await startService(config, { role: opts.role ?? "all", port: opts.port ?? 0, queuePrefix, log: createLogger(config.logLevel) });
  const http = request(service.url ?? "http://127.0.0.1:1");
  let n = 0;

  return {
    ...service,
    db,
    http,
    queuePrefix,
    async signIn(role, extra = {}) {
      const email = `${role}${++n}-${randomBytes(3).toString("hex")}@example.test`;
      const password = "correct horse battery";
      const user = await service.container.crm.users.create({ email, password, role, dialTarget: extra.dialTarget }, { type: "system" });
      const res = await http.post("/api/auth/login").send({ email, password }).expect(200);
      return { token: res.body.token as string, userId: user.id, email };
    },
    async close() {
      await service.stop();
      await db.drop();
      const url = redisUrl();
      if (url) await dropQueueKeys(url, queuePrefix);
    },
  };
}

export type { Agent };
