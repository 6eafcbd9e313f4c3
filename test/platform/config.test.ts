import path from "node:path";
import { ConfigError, loadConfig } from "../../src/platform/config";

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("with no environment, runs embedded with the contract's defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      mode: "embedded",
      port: 3000,
      publicUrl: "http://localhost:3000",
      databaseUrl: undefined,
      redisUrl: undefined,
      dataDir: path.resolve("./data"),
      defaultRegion: "US",
      callbackSlaMinutes: 15,
      twilio: { apiBase: "https://api.twilio.com", accountSid: undefined, authToken: undefined },
      pbxWebhookSecret: undefined,
    });
  });

  it("derives PUBLIC_URL from PORT and strips a trailing slash", () => {
    expect(loadConfig({ PORT: "8080" }).publicUrl).toBe("http://localhost:8080");
    expect(loadConfig({ PUBLIC_URL: "https://crm.example.com/" }).publicUrl).toBe("https://crm.example.com");
  });

  it("treats empty values as unset (a blank line in .env is not a value)", () => {
    expect(loadConfig({ DATABASE_URL: "", REDIS_URL: " " }).mode).toBe("embedded");
  });

  it("is in production mode with DATABASE_URL, and then requires JWT_SECRET", () => {
    expect(problemsOf({ DATABASE_URL: "postgres://db/crm" })).toEqual(["JWT_SECRET is required in production mode (DATABASE_URL is set)"]);
    const c = loadConfig({ DATABASE_URL: "postgres://db/crm", JWT_SECRET: "x".repeat(32) });
    expect(c.mode).toBe("production");
  });

  it.each([
    ["PORT", "eighty", "PORT"],
    ["PORT", "70000", "PORT"],
    ["PUBLIC_URL", "crm.example.com", "PUBLIC_URL"],
    ["PUBLIC_URL", "https://crm.example.com/?x=1", "PUBLIC_URL"],
    ["DATABASE_URL", "mysql://db/crm", "DATABASE_URL"],
    ["REDIS_URL", "localhost:6379", "REDIS_URL"],
    ["TWILIO_ACCOUNT_SID", "SK123", "TWILIO_ACCOUNT_SID"],
    ["TWILIO_API_BASE", "ftp://api.twilio.com", "TWILIO_API_BASE"],
    ["PBX_WEBHOOK_SECRET", "plain-secret", "PBX_WEBHOOK_SECRET"],
    ["JWT_SECRET", "short", "JWT_SECRET"],
    ["DEFAULT_REGION", "USA", "DEFAULT_REGION"],
    ["CALLBACK_SLA_MINUTES", "0", "CALLBACK_SLA_MINUTES"],
    ["CALLBACK_SLA_MINUTES", "soon", "CALLBACK_SLA_MINUTES"],
    ["LOG_LEVEL", "loud", "LOG_LEVEL"],
    ["SERVICE_ROLE", "web", "SERVICE_ROLE"],
  ])("refuses %s=%s and names the variable", (key, value, named) => {
    const problems = problemsOf({ [key]: value, ...(key === "DATABASE_URL" ? { JWT_SECRET: "x".repeat(32) } : {}) });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${named} `));
  });

  it("reports every bad variable at once", () => {
    expect(problemsOf({ PORT: "x", DEFAULT_REGION: "1" })).toHaveLength(2);
  });

  it("normalises the region to upper case", () => {
    expect(loadConfig({ DEFAULT_REGION: "bg" }).defaultRegion).toBe("BG");
  });
});
