import { ask } from "./live";
import { notify, rerender } from "./store";

/** G.711 µ-law byte → linear sample in [-1, 1] (what Twilio Media Streams carry, 8 kHz mono). */
const MU_LAW = new Float32Array(256);
for (let i = 0; i < 256; i++) {
  const u = ~i & 0xff;
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << ((u >> 4) & 0x07)) - 0x84;
  MU_LAW[i] = ((u & 0x80) ? -magnitude : magnitude) / 32768;
}

/** Plays a little behind real time so that network jitter does not cut the sound. */
const LEAD_SECONDS = 0.25;

let ctx: AudioContext | undefined;
let callId: string | undefined;
const playhead = { inbound: 0, outbound: 0 };
/** Samples played so far per track (the board shows the seconds heard). */
export const heard = { inbound: 0, outbound: 0 };
export const secondsHeard = () => Math.floor(Math.max(heard.inbound, heard.outbound) / 8000);

export const listeningTo = () => callId;

export async function startListening(id: string): Promise<void> {
  if (callId) await stopListening();
  // Created inside the click, so the browser lets it play.
  ctx = new AudioContext();
  callId = id;
  heard.inbound = heard.outbound = 0;
  playhead.inbound = playhead.outbound = 0;
  rerender();
  const r = await ask("listen:start", { callId: id });
  if (callId !== id) {
    // Stopped, or another call chosen, while this one was starting: leave it at once.
    if (r.ok) await ask("listen:stop", { callId: id });
    return;
  }
  if (!r.ok) {
    notify(`Cannot listen: ${String(r.message ?? r.error)}`, "error");
    await close();
  }
}

/** After a reconnect the service has ended our session (the socket went): ask again. */
export async function resumeListening(): Promise<void> {
  const id = callId;
  if (!id) return;
  const r = await ask("listen:start", { callId: id });
  if (!r.ok && callId === id) onListenEnded({ callId: id, reason: String(r.message ?? r.error) });
}

export async function stopListening(): Promise<void> {
  const id = callId;
  await close();
  if (id) await ask("listen:stop", { callId: id });
}

async function close(): Promise<void> {
  callId = undefined;
  const c = ctx;
  ctx = undefined;
  rerender();
  await c?.close().catch(() => undefined);
}

/** Each track (caller, agent) keeps its own timeline; both play through the same speakers. */
export function onListenAudio(a: { callId: string; track: "inbound" | "outbound"; audio: ArrayBuffer }): void {
  if (!ctx || a.callId !== callId) return;
  const bytes = new Uint8Array(a.audio);
  const buffer = ctx.createBuffer(1, bytes.length, 8000);
  const samples = buffer.getChannelData(0);
  for (let i = 0; i < bytes.length; i++) samples[i] = MU_LAW[bytes[i]!]!;
  const source = ctx.createBufferSource();
  source.buffer = buffer;
  source.connect(ctx.destination);
  const at = Math.max(playhead[a.track], ctx.currentTime + LEAD_SECONDS);
  source.start(at);
  playhead[a.track] = at + buffer.duration;
  heard[a.track] += bytes.length;
  rerender(); // ten times a second at most: one render per frame
}

export function onListenEnded(e: { callId: string; reason: string }): void {
  if (e.callId !== callId) return;
  notify(`Listening ended: ${e.reason}`);
  void close();
}
