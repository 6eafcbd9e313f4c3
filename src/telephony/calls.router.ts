import { Router, type RequestHandler } from "express";
import { pipeline } from "node:stream/promises";
import type { Principal } from "../crm";
import type { CallsQuery } from "./calls.query";
import type { ClickToCallService } from "./outbound/click-to-call.service";
import type { RecordingPlayback } from "./recordings/recording-playback";

/** GET /api/calls, GET /api/calls/:id, its recording — for the people who work the calls (not marketers). */
export function callsRouter(deps: {
  calls: CallsQuery;
  recordings: RecordingPlayback;
  clickToCall: ClickToCallService;
  allowed: RequestHandler;
  /** Who may place calls: people with phones (agents, supervisors). */
  callers: RequestHandler;
  issueLink: (who: Principal, path: string) => Promise<{ token: string; expiresAt: string }>;
}): Router {
  const r = Router();
  // An <audio> element cannot send the Authorization header: it gets a short-lived link instead.
  r.post("/:id/recording/link", deps.allowed, async (req, res) => {
    const id = String(req.params.id);
    await deps.recordings.playable(req.principal!, id);
    const path = `${req.baseUrl}/${id}/recording`;
    const { token, expiresAt } = await deps.issueLink(req.principal!, path);
    res.json({ url: `${path}?access=${encodeURIComponent(token)}`, expiresAt });
  });
  r.get("/:id/recording", deps.allowed, async (req, res) => {
    const media = await deps.recordings.open(req.principal!, String(req.params.id), req.get("range"));
    res.status(media.status).set(media.headers).set("cache-control", "private, no-store");
    // A player that seeks drops the previous request: that ends the upstream fetch too.
    await pipeline(media.body, res).catch(() => media.body.destroy());
  });
  r.post("/", deps.callers, async (req, res) => {
    res.status(201).json(await deps.clickToCall.start(req.principal!, req.body, req.id as string | undefined));
  });
  r.get("/", deps.allowed, async (req, res) => {
    res.json(await deps.calls.list(req.query));
  });
  r.get("/:id", deps.allowed, async (req, res) => {
    res.json(await deps.calls.get(String(req.params.id)));
  });
  return r;
}
