import { html } from "lit";
import { api, qs } from "../api";
import { fmtDateTime, fmtDuration } from "../format";
import { attempt, rerender } from "../store";
import type { Call, Page } from "../types";
import { agentName } from "./board";
import { recordingPlayer } from "./player";

let calls: Call[] | undefined;
let cursor: string | null | undefined;

export async function loadRecordings(more = false): Promise<void> {
  const page = await attempt(() => api<Page<Call>>(`/api/calls${qs({ recorded: "true", limit: 50, cursor: more ? cursor : undefined })}`));
  if (page) {
    calls = more ? [...(calls ?? []), ...page.items] : page.items;
    cursor = page.nextCursor;
  }
  rerender();
}

export function recordingsView() {
  return html`<h1>Recordings</h1>
    ${calls === undefined
      ? html`<p class="muted">Loading…</p>`
      : calls.length === 0
        ? html`<p class="muted">No recorded calls yet.</p>`
        : html`<table data-testid="recordings"><thead><tr><th>When</th><th>Caller</th><th>Agent</th><th>Length</th><th>Source</th><th>Listen</th></tr></thead><tbody>
            ${calls.map(
              (c) => html`<tr data-call-id=${c.id}>
                <td>${fmtDateTime(c.startedAt)}</td>
                <td>${c.contactId ? html`<a href="#/contacts/${c.contactId}">${c.contactName ?? c.from}</a>` : c.from}</td>
                <td>${agentName(c.answeredBy)}</td>
                <td>${fmtDuration(c.recording?.durationSec ?? c.durationSec)}</td>
                <td>${c.attribution?.source ?? "–"}</td>
                <td class="player">${recordingPlayer(c.id)}</td>
              </tr>`,
            )}
          </tbody></table>
          ${cursor ? html`<button type="button" class="secondary" @click=${() => void loadRecordings(true)}>More</button>` : ""}`}`;
}
