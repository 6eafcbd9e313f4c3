#!/usr/bin/env node
// Compiles TypeScript when dist/ is missing or older than any source, so `npm start` works on a
// fresh clone and never runs stale code. Production images build once and skip this (no sources newer).
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

const root = path.resolve(__dirname, "..");
const stamp = path.join(root, "dist", ".tsbuildinfo");

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
const sources = Math.max(
  newestMtime(path.join(root, "src")),
  newestMtime(path.join(root, "migrations")),
  fs.statSync(path.join(root, "tsconfig.json")).mtimeMs,
);
if (built >= sources) process.exit(0);

let tsc;
try {
  tsc = require.resolve("typescript/bin/tsc", { paths: [root] });
} catch {
  console.error("dist/ is stale or missing and TypeScript is not installed: run `npm ci` (with dev dependencies) or `npm run build`.");
  process.exit(1);
}
process.stderr.write("compiling TypeScript...\n");
execFileSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], { stdio: "inherit", cwd: root });
fs.utimesSync(stamp, new Date(), new Date());
