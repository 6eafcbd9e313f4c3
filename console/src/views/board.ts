import { html } from "lit";
import { api } from "../api";
import { fmtTime } from "../format";
import { heard, listeningTo, secondsHeard, startListening, stopListening } from "../listen";
import { rerender } from "../store";
import type { BoardAgent, BoardCall, Call, CallUpdate, Presence } from "../types";

const agents = new Map<string, BoardAgent>();
const calls = new Map<string, BoardCall>();
let received = false;

export function onBoardSnapshot(b: { agents: BoardAgent[]; calls: BoardCall[] }): void {
  agents.clear();
  calls.clear();
  for (const a of b.agents) agents.set(a.userId, a);
  for (const c of b.calls) calls.set(c.id, c);
  received = true;
  rerender();
}

export function onBoardPresence(p: { userId: string; status: Presence }): void {
  const a = agents.get(p.userId);
  if (a) a.presence = p.status;
  rerender();
}

export function onBoardCallUpdate(u: CallUpdate): void {
  if (u.status === "completed") {
    calls.delete(u.callId);
  } else {
    const known = calls.get(u.callId);
    if (known) Object.assign(known, { status: u.status, answeredBy: u.answeredBy });
    // A call the board has not seen yet: its caller comes from the calls API.
    else void api<Call>(`/api/calls/${u.callId}`).then((c) => {
      if (c.status !== "completed") calls.set(c.id, { id: c.id, direction: c.direction, from: c.from, status: c.status, answeredBy: c.answeredBy, startedAt: c.startedAt, contactName: c.contactName });
      rerender();
    }, () => undefined);
  }
  rerender();
}

export const agentName = (id: string | null) => (id ? (agents.get(id)?.name ?? "another user") : "–");

export function boardView() {
  if (!received) return html`<h1>Live board</h1><p class="muted">Connecting…</p>`;
  const live = [...calls.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  const counts = { available: 0, busy: 0, away: 0, offline: 0 } as Record<Presence, number>;
  for (const a of agents.values()) counts[a.presence] = (counts[a.presence] ?? 0) + 1;
  return html`<h1>Live board</h1>
    <p class="summary">
      <span class="pill available">${counts.available} available</span> <span class="pill busy">${counts.busy} on a call</span>
      <span class="pill away">${counts.away} away</span> <span class="pill offline">${counts.offline} offline</span>
    </p>
    <div class="columns">
      <section aria-labelledby="live-h">
        <h2 id="live-h">Calls now (${live.length})</h2>
        ${live.length
          ? html`<table data-testid="live-calls"><thead><tr><th>Since</th><th>Caller</th><th>State</th><th>Agent</th><th>Listen</th></tr></thead><tbody>
              ${live.map((c) => html`<tr class=${c.status}><td>${fmtTime(c.startedAt)}</td><td>${c.contactName ?? c.from}</td>
                <td><span class="badge ${c.status}">${c.status === "ringing" ? "ringing" : "in progress"}</span></td><td>${agentName(c.answeredBy)}</td>
                <td>${listenButton(c)}</td></tr>`)}
            </tbody></table>`
          : html`<p class="muted">No calls right now.</p>`}
      </section>
      <section aria-labelledby="agents-h">
        <h2 id="agents-h">Agents</h2>
        <table data-testid="agents"><thead><tr><th>Agent</th><th>State</th></tr></thead><tbody>
          ${[...agents.values()].map((a) => html`<tr><td>${a.name}</td><td><span class="pill ${a.presence}">${a.presence}</span></td></tr>`)}
        </tbody></table>
      </section>
    </div>`;
}

/** Live calls can be listened to (the audio plays here; nobody on the call hears it). */
function listenButton(c: BoardCall) {
  if (c.status !== "in-progress") return "";
  if (listeningTo() === c.id) {
    return html`<button type="button" aria-pressed="true" @click=${() => void stopListening()}>■ Stop</button>
      <span class="muted" data-testid="listening" data-inbound=${heard.inbound} data-outbound=${heard.outbound}>${secondsHeard()} s</span>`;
  }
  return html`<button type="button" class="secondary" aria-pressed="false" @click=${() => void startListening(c.id)}>🎧 Listen</button>`;
}
