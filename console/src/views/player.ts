import { html, nothing } from "lit";
import { api } from "../api";
import { rerender } from "../store";

/** Links the service issued for recordings (an <audio> element cannot send our token). */
const players = new Map<string, { url?: string; error?: string }>();

async function open(callId: string): Promise<void> {
  players.set(callId, {});
  rerender();
  try {
    const { url } = await api<{ url: string }>(`/api/calls/${callId}/recording/link`, { method: "POST" });
    players.set(callId, { url });
  } catch (err) {
    players.set(callId, { error: (err as Error).message });
  }
  rerender();
}

/** A "Play" button that becomes a seekable player for the call's recording. */
export function recordingPlayer(callId: string) {
  const p = players.get(callId);
  if (!p) return html`<button type="button" class="secondary" @click=${() => void open(callId)}>▶ Play</button>`;
  if (p.error) return html`<span class="error">${p.error}</span>`;
  if (!p.url) return html`<span class="muted">Loading…</span>`;
  return html`<audio controls autoplay preload="metadata" src=${p.url} data-testid="recording-audio"></audio>`;
}

export const noPlayer = nothing;
