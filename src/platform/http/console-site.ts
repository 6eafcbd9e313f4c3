import express, { Router } from "express";
import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * The web console (built by `npm run build` into dist/console): index.html at `/`, never cached
 * so a deploy takes effect at once, and hashed assets cached for good. Routes inside the console
 * are hash routes, so no other path needs to answer with the page.
 */
export function consoleSite(dir: string): Router {
  const r = Router();
  const index = join(dir, "index.html");
  r.get("/", (_req, res) => {
    if (!existsSync(index)) {
      res.status(503).type("text/plain").send("The console is not built: run `npm run build` (npm start does it when sources changed).\n");
      return;
    }
    res.sendFile(index, { headers: { "cache-control": "no-cache" } });
  });
  r.use("/assets", express.static(join(dir, "assets"), { immutable: true, maxAge: "365d", index: false }));
  return r;
}
