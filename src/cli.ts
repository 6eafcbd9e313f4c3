import { parseArgs } from "node:util";
import { buildContainer } from "./container";
import { ConfigError, loadConfig } from "./platform/config";
import { migrate } from "./platform/db/migrate";
import { createLogger } from "./platform/logger";
import { resolveRuntime } from "./service";

const USAGE = `usage: npm run cli -- user:create --email E --password P --role agent|supervisor|marketer|admin [--name N] [--dial-target T]
       npm run cli -- reports:rebuild   (recompute the report columns of every call, e.g. after loading calls by hand)`;

const COMMANDS = ["user:create", "reports:rebuild"];

/** `npm run cli -- <command>`: administration that works on an empty database. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || !COMMANDS.includes(command)) {
    console.error(USAGE);
    return 64;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      email: { type: "string" },
      password: { type: "string" },
      role: { type: "string" },
      name: { type: "string" },
      "dial-target": { type: "string" },
    },
    strict: true,
  });
  const config = loadConfig(env);
  const log = createLogger(config.logLevel === "info" ? "warn" : config.logLevel);
  const { config: resolved, embedded } = await resolveRuntime({ ...config, redisUrl: undefined }, log);
  const c = await buildContainer(resolved, log);
  try {
    await migrate(c.ds, log);
    if (command === "reports:rebuild") {
      await c.tracking.reports.rebuildReportColumns();
      console.log(JSON.stringify({ rebuilt: true }));
      return 0;
    }
    const user = await c.crm.users.create(
      { email: values.email, password: values.password, role: values.role, name: values.name, dialTarget: values["dial-target"] },
      { type: "system", id: "cli" },
    );
    console.log(JSON.stringify(user));
    return 0;
  } finally {
    await c.close();
    await embedded?.stop();
  }
}

export function describeCliError(err: Error & { issues?: Array<{ path: PropertyKey[]; message: string }> }): string {
  if (err instanceof ConfigError) return err.message;
  if (err.issues) return err.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("\n");
  return err.message;
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(describeCliError(err));
      console.error(USAGE);
      process.exit(1);
    },
  );
}
