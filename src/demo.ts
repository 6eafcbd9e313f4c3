import { randomBytes, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Router } from "express";
import type { Container } from "./container";
import { AppError } from "./platform/errors";

/** The people of the demo: two agents the simulator's calls ring, and one of each other role. */
export const DEMO_USERS = [
  { email: "alice@example.com", name: "Alice Agent", role: "agent", dialTarget: "client:alice" },
  { email: "bob@example.com", name: "Bob Agent", role: "agent", dialTarget: "client:bob" },
  { email: "sue@example.com", name: "Sue Supervisor", role: "supervisor" },
  { email: "mark@example.com", name: "Mark Marketer", role: "marketer" },
  { email: "admin@example.com", name: "Admin", role: "admin" },
] as const;

/** A DNI pool for the website and two static numbers of their own source, as a business would have. */
const DEMO_NUMBERS = [
  { number: "+15005550201", pool: "website" },
  { number: "+15005550202", pool: "website" },
  { number: "+15005550203", pool: "website" },
  { number: "+15005550301", source: "yelp", medium: "directory", campaign: "listing" },
  { number: "+15005550302", source: "radio", medium: "offline", campaign: "morning-show" },
];

/**
 * Embedded mode with the development token only (never production): `npm run simulate` calls
 * `POST /dev/seed` with that token to add the demo users and tracking numbers. Idempotent; the
 * password is generated once and kept in DATA_DIR/demo-credentials.json (mode 0600).
 */
export function demoRouter(c: Container): Router {
  const r = Router();
  const token = Buffer.from(c.config.twilio.authToken ?? "");
  r.post("/seed", async (req, res) => {
    const given = Buffer.from(/^Bearer (\S+)$/.exec(req.get("authorization") ?? "")?.[1] ?? "");
    if (!token.length || given.length !== token.length || !timingSafeEqual(given, token)) {
      throw new AppError("unauthenticated", "The demo seed needs the development token (DATA_DIR/dev-secrets.json)");
    }
    res.json(await seedDemo(c));
  });
  return r;
}

async function seedDemo(c: Container) {
  const password = demoPassword(c.config.dataDir);
  for (const u of DEMO_USERS) {
    if (await c.crm.users.findActiveByEmail(u.email)) continue;
    await c.crm.users.create({ ...u, password }, { type: "system" }).catch(ignoreConflict);
  }
  const existing = new Set((await c.tracking.numbers.listNumbers()).items.map((n) => n.number));
  for (const n of DEMO_NUMBERS) {
    if (!existing.has(n.number)) await c.tracking.numbers.createNumber(undefined, n).catch(ignoreConflict);
  }
  return {
    users: DEMO_USERS.map(({ email, role, name }) => ({ email, role, name })),
    password,
    pool: "website",
    staticNumbers: DEMO_NUMBERS.filter((n) => n.source).map(({ number, source }) => ({ number, source })),
  };
}

/** Two simulators seeding at once: the loser's conflict means the row is there. */
const ignoreConflict = (err: unknown) => {
  if (!(err instanceof AppError && err.code === "conflict")) throw err;
};

function demoPassword(dataDir: string): string {
  const file = path.join(dataDir, "demo-credentials.json");
  const password = `demo-${randomBytes(6).toString("base64url")}`;
  try {
    fs.writeFileSync(file, JSON.stringify({ password }, null, 2), { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return (JSON.parse(fs.readFileSync(file, "utf8")) as { password: string }).password;
}
