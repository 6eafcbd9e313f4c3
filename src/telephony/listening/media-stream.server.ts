import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import twilio from "twilio";
import { WebSocketServer, type WebSocket } from "ws";
import { z } from "zod";
import type { Logger } from "../../platform/logger";
import { MEDIA_STREAM_PATH, webSocketBase } from "./live-listening.service";

/** One relayed piece of audio: raw µ-law 8 kHz mono, about 100 ms of one track. */
export interface AudioFrame {
  callId: string;
  track: "inbound" | "outbound";
  /** Milliseconds since the stream started (of the first sample in `audio`). */
  timestamp: number;
  audio: Buffer;
}

export type StreamEndReason = "call ended" | "stream lost";

const FRAME_LIMIT = 64 * 1024;
/** Twilio sends 20 ms per message; five make 100 ms, a tenth of the messages to the browser. */
const FRAMES_PER_RELAY = 5;
/**
 * A started piece goes out after this long even if short: a track that pauses, or messages that
 * arrive late, must not hold the audio already here until more comes.
 */
const HOLD_MS = 100;
/** Frames held per track while a new stream is checked (two seconds of audio). */
const MAX_WAITING = 100;

const startMessage = z.object({
  event: z.literal("start"),
  start: z.object({ streamSid: z.string().max(64), callSid: z.string().max(64), mediaFormat: z.object({ encoding: z.string(), sampleRate: z.number() }).loose().optional() }).loose(),
});
const mediaMessage = z.object({
  event: z.literal("media"),
  media: z.object({
    track: z.enum(["inbound", "outbound"]),
    timestamp: z.coerce.number().int().min(0),
    payload: z.string().max(8 * 1024).regex(/^[A-Za-z0-9+/]*={0,2}$/),
  }),
});
const eventOf = z.object({ event: z.string().max(20) }).loose();

export interface MediaStreamDeps {
  publicUrl: string;
  authToken: string | undefined;
  /** Is this a stream we started for this call? (Else the socket is closed.) */
  wanted(callId: string, streamSid: string): Promise<boolean>;
  audio(frame: AudioFrame): void;
  /** The stream is over: "call ended" (stop message or socket closed), or "stream lost" (we closed it on an error). */
  ended(callId: string, streamSid: string, reason: StreamEndReason): void;
  count(result: "relayed" | "dropped"): void;
  log: Logger;
}

/**
 * Twilio Media Streams on raw `ws`, apart from Socket.IO: the upgrade is refused (403) unless
 * X-Twilio-Signature matches the URL we gave Twilio, so no audio flows from anyone else.
 * Malformed messages are dropped and counted; the stream goes on.
 */
export function attachMediaStreams(server: Server, deps: MediaStreamDeps): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: FRAME_LIMIT });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname !== MEDIA_STREAM_PATH) return; // Socket.IO's, or nobody's
    if (!signed(req, deps)) {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      deps.log.warn({ path: url.pathname }, "media stream refused: bad or missing X-Twilio-Signature");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, url.searchParams.get("call") ?? "", deps));
  };
  server.on("upgrade", onUpgrade);
  return {
    close() {
      server.off("upgrade", onUpgrade);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

/**
 * Twilio signs the URL as written in the stream's `url` (wss://…). The https:// spelling of the
 * same URL is accepted too: both are keyed with our auth token, so neither can be forged.
 */
function signed(req: IncomingMessage, deps: MediaStreamDeps): boolean {
  const signature = req.headers["x-twilio-signature"];
  if (!deps.authToken || typeof signature !== "string" || signature.length === 0 || signature.length > 200) return false;
  const https = `${deps.publicUrl}${req.url}`;
  const wss = `${webSocketBase(deps.publicUrl)}${req.url}`;
  return twilio.validateRequest(deps.authToken, signature, wss, {}) || twilio.validateRequest(deps.authToken, signature, https, {});
}

function serve(ws: WebSocket, callId: string, deps: MediaStreamDeps): void {
  let streamSid: string | undefined;
  // Audio arriving while we check the stream waits (a few frames at most), then flows or is dropped.
  let state: "before-start" | "checking" | "accepted" | "over" = "before-start";
  const pending: Record<"inbound" | "outbound", { timestamp: number; chunks: Buffer[]; timer?: NodeJS.Timeout }> = {
    inbound: { timestamp: 0, chunks: [] },
    outbound: { timestamp: 0, chunks: [] },
  };
  const flush = (track: "inbound" | "outbound") => {
    const p = pending[track];
    clearTimeout(p.timer);
    p.timer = undefined;
    // While the stream is checked, its audio waits for the answer (which flushes both tracks).
    if (p.chunks.length === 0 || state !== "accepted") return;
    deps.audio({ callId, track, timestamp: p.timestamp, audio: Buffer.concat(p.chunks) });
    p.chunks = [];
  };
  /** The stream is over: what is left is relayed, and its sessions end (matched by stream id, so a stranger's ends nothing). */
  const finish = (reason: StreamEndReason) => {
    flush("inbound");
    flush("outbound");
    const started = state === "accepted" || state === "checking";
    state = "over";
    if (started) deps.ended(callId, streamSid!, reason);
  };

  ws.on("message", (data, isBinary) => {
    const message = isBinary ? undefined : parse(data.toString());
    const kind = eventOf.safeParse(message);
    if (!kind.success) return deps.count("dropped");
    switch (kind.data.event) {
      case "start": {
        const m = startMessage.safeParse(message);
        if (!m.success || state !== "before-start") return deps.count("dropped");
        streamSid = m.data.start.streamSid;
        state = "checking";
        void deps.wanted(callId, streamSid).then(
          (ok) => {
            if (state !== "checking") return;
            if (!ok) {
              state = "over";
              deps.log.warn({ callId, streamSid }, "media stream closed: not a stream we asked for, or its sessions ended");
              return ws.close(1008, "not a stream we asked for");
            }
            state = "accepted";
            flush("inbound");
            flush("outbound");
          },
          (err: Error) => {
            if (state !== "checking") return;
            deps.log.error({ err: err.message, callId, streamSid }, "media stream closed: it could not be looked up");
            finish("stream lost");
            ws.close(1011, "try again");
          },
        );
        return;
      }
      case "media": {
        const m = mediaMessage.safeParse(message);
        const p = m.success ? pending[m.data.media.track] : undefined;
        if (!m.success || !p || (state !== "accepted" && state !== "checking") || p.chunks.length >= MAX_WAITING) return deps.count("dropped");
        if (p.chunks.length === 0) {
          p.timestamp = m.data.media.timestamp;
          p.timer = setTimeout(() => flush(m.data.media.track), HOLD_MS);
        }
        p.chunks.push(Buffer.from(m.data.media.payload, "base64"));
        deps.count("relayed");
        if (p.chunks.length >= FRAMES_PER_RELAY) flush(m.data.media.track);
        return;
      }
      case "stop":
        finish("call ended");
        ws.close(1000);
        return;
      default:
        return; // connected, mark, dtmf: nothing to relay
    }
  });
  ws.on("close", () => finish("call ended"));
  ws.on("error", (err) => deps.log.warn({ err: err.message }, "media stream socket error"));
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
