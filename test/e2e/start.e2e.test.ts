import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../support/free-port";
import { waitFor } from "../support/wait-for";

/** `npm start` as a user runs it: compiled, no configuration, embedded PostgreSQL under DATA_DIR. */
const root = path.resolve(__dirname, "../..");

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
  return env;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", (code) => resolve(code))));
}

beforeAll(() => {
  execFileSync(process.execPath, [path.join(root, "scripts/build-if-stale.js")], { cwd: root, stdio: "inherit" });
}, 120_000);

describe("npm start with no configuration", () => {
  let dataDir: string;
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it("serves /healthz and /readyz within seconds, and exits cleanly on SIGTERM", async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "crm-start-"));
    const port = await freePort();
    let output = "";
    const child = spawn(process.execPath, [path.join(root, "dist/src/main.js")], {
      cwd: root,
      env: cleanEnv({ PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: "info" }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (d) => (output += d));
    child.stderr?.on("data", (d) => (output += d));
    try {
      const started = Date.now();
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, { timeoutMs: 30_000, what: "readyz" });
      expect(Date.now() - started).toBeLessThan(30_000);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect(fs.existsSync(path.join(dataDir, "dev-secrets.json"))).toBe(true);
      expect(fs.statSync(path.join(dataDir, "dev-secrets.json")).mode & 0o077).toBe(0);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exitOf(child)).toBe(0);
    expect(output).toContain('"msg":"stopped"');
    // The embedded server stopped with the service: its pid file is gone.
    expect(fs.existsSync(path.join(dataDir, "postgres", "postmaster.pid"))).toBe(false);
  }, 60_000);

  it("refuses to start with a bad variable, naming it", async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "crm-start-"));
    const child = spawn(process.execPath, [path.join(root, "dist/src/main.js")], {
      cwd: root,
      env: cleanEnv({ PORT: "not-a-port", DATA_DIR: dataDir }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (d) => (stderr += d));
    expect(await exitOf(child)).toBe(78);
    expect(stderr).toMatch(/PORT /);
  });
});
