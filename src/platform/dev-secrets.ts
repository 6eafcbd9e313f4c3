import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export interface DevSecrets {
  jwtSecret: string;
  /** Stands in for a Twilio auth token so `npm run simulate` can sign webhooks locally. */
  twilioAuthToken: string;
}

export const devSecretsPath = (dataDir: string) => path.join(dataDir, "dev-secrets.json");

/**
 * Embedded mode only: secrets generated once and kept in DATA_DIR (mode 0600), so tokens stay
 * valid across restarts with zero configuration. Production mode never calls this.
 */
export function loadOrCreateDevSecrets(dataDir: string): DevSecrets {
  const file = devSecretsPath(dataDir);
  if (fs.existsSync(file)) {
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<DevSecrets>;
    if (parsed.jwtSecret && parsed.twilioAuthToken) return parsed as DevSecrets;
  }
  const secrets: DevSecrets = {
    jwtSecret: randomBytes(48).toString("base64url"),
    twilioAuthToken: randomBytes(16).toString("hex"),
  };
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}
