import { buildContainer, type ResolvedConfig } from "../../src/container";
import { loadConfig } from "../../src/platform/config";
import { createLogger } from "../../src/platform/logger";

describe("startup with the database down", () => {
  it("retries with backoff, then fails with one clear error", async () => {
    const config = loadConfig({ DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere", JWT_SECRET: "x".repeat(32) }) as ResolvedConfig;
    const started = Date.now();
    await expect(buildContainer(config, createLogger("silent"), { connectAttempts: 3 })).rejects.toThrow(/database unreachable after 3 attempts/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250 + 500);
  });
});
