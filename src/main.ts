import { ConfigError, loadConfig } from "./platform/config";
import { createLogger } from "./platform/logger";
import { startService, type Role } from "./service";

/** Entry point of `npm start` (role all) and `npm run worker` (role worker). */
export async function main(role: Role): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  const effectiveRole: Role = role === "all" ? config.serviceRole : role;
  const service = await startService(config, { role: effectiveRole, log }).catch((err: Error) => {
    log.fatal({ err: err.message }, "startup failed");
    process.exit(1);
  });

  const shutdown = (signal: string) => {
    log.info({ signal }, "signal received");
    const hard = setTimeout(() => {
      log.error("shutdown took too long; exiting");
      process.exit(1);
    }, 30_000);
    hard.unref();
    service.stop().then(
      () => process.exit(0),
      (err: Error) => {
        log.error({ err: err.message }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection"));
}

if (require.main === module) void main("all");
