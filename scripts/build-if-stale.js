#!/usr/bin/env node
// Builds what is missing or older than its sources, so `npm start` works on a fresh clone and
// never runs stale code: the service (TypeScript → dist/) and the web console (Vite →
// dist/console). Production images build once and skip this (no sources newer).
//
//   node scripts/build-if-stale.js [--console]   (--console: the console only; the tests use it)
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

const root = path.resolve(__dirname, "..");

function newestMtime(dir, exts) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, exts));
    else if (exts.some((e) => entry.name.endsWith(e))) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

const builtAt = (file) => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0);

function tool(module, what) {
  try {
    return require.resolve(module, { paths: [root] });
  } catch {
    console.error(`${what} is stale or missing and its build tool is not installed: run \`npm ci\` (with dev dependencies) or \`npm run build\`.`);
    process.exit(1);
  }
}

function buildService() {
  const stamp = path.join(root, "dist", ".tsbuildinfo");
  const sources = Math.max(
    newestMtime(path.join(root, "src"), [".ts"]),
    newestMtime(path.join(root, "migrations"), [".ts"]),
    fs.statSync(path.join(root, "tsconfig.json")).mtimeMs,
  );
  if (builtAt(stamp) >= sources) return;
  const tsc = tool("typescript/bin/tsc", "dist/");
  process.stderr.write("compiling TypeScript...\n");
  execFileSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], { stdio: "inherit", cwd: root });
  fs.utimesSync(stamp, new Date(), new Date());
}

function buildConsole() {
  const dir = path.join(root, "console");
  const index = path.join(root, "dist", "console", "index.html");
  const sources = Math.max(newestMtime(path.join(dir, "src"), [".ts", ".css"]), builtAt(path.join(dir, "index.html")), builtAt(path.join(dir, "vite.config.mjs")));
  if (builtAt(index) >= sources) return;
  const vite = path.join(path.dirname(tool("vite/package.json", "dist/console/")), "bin", "vite.js");
  process.stderr.write("building the console...\n");
  execFileSync(process.execPath, [vite, "build", "--config", path.join(dir, "vite.config.mjs"), "--logLevel", "warn"], { stdio: "inherit", cwd: root });
}

if (!process.argv.includes("--console")) buildService();
buildConsole();
