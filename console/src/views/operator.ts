import { html, nothing } from "lit";
import { api, qs } from "../api";
import { fmtDateTime, fmtRelative } from "../format";
import { connection, setPresence } from "../live";
import { attempt, notify, rerender } from "../store";
import type { Page, Presence, Task } from "../types";
import { hasPops } from "./pops";

let tasks: Task[] | undefined;
let presence: Presence | undefined;

export function onOwnPresence(status: Presence): void {
  presence = status;
  rerender();
}

export async function loadTasks(): Promise<void> {
  const page = await attempt(() => api<Page<Task>>(`/api/tasks${qs({ status: "open", assignee: "me", limit: 100 })}`));
  if (page) tasks = page.items;
  rerender();
}

export function onTaskAssigned(t: Task): void {
  notify(`New task: ${t.title}`);
  void loadTasks();
}

async function markDone(t: Task): Promise<void> {
  const done = await attempt(() => api(`/api/tasks/${t.id}`, { method: "PATCH", body: { status: "done", resolution: "called back" } }));
  if (done) {
    tasks = tasks?.filter((x) => x.id !== t.id);
    notify(`Done: ${t.title}`);
  }
}

/** Click-to-call: the service rings this agent's phone first, then the customer. */
let placing = false;

export async function callBack(body: { taskId?: string; contactId?: string }, who: string): Promise<void> {
  // One call at a time: a second click while Twilio is asked would ring the customer twice.
  if (placing) return;
  placing = true;
  const call = await attempt(() => api<{ id: string }>("/api/calls", { method: "POST", body })).finally(() => (placing = false));
  if (call) notify(`Calling you now: pick up, and we ring ${who}`);
  if (body.taskId) void loadTasks();
}

async function toggle(next: "available" | "away"): Promise<void> {
  const r = await setPresence(next);
  if (r.ok && r.status) presence = r.status;
  else notify(r.error ?? "Could not change your availability", "error");
  rerender();
}

/** The availability switch in the header (agents only). */
export function availabilitySwitch() {
  const on = presence === "available" || presence === "busy";
  const label = presence === "busy" ? "On a call" : on ? "Available" : presence === "away" ? "Away" : "Offline";
  return html`<label class="switch" title="When available, incoming calls ring you">
    <input type="checkbox" role="switch" data-testid="availability" .checked=${on} ?disabled=${!connection.online || presence === "busy"}
      @change=${(e: Event) => void toggle((e.target as HTMLInputElement).checked ? "available" : "away")} />
    <span>${label}</span>
  </label>`;
}

export function operatorView() {
  return html`<h1>Calls and call-backs</h1>
    ${hasPops() ? nothing : html`<p class="waiting muted">${presence === "available" ? "Waiting for calls…" : "You are not taking calls. Switch to Available to be rung."}</p>`}
    <section aria-labelledby="tasks-h">
      <h2 id="tasks-h">My call-backs</h2>
      ${tasks === undefined
        ? html`<p class="muted">Loading…</p>`
        : tasks.length === 0
          ? html`<p class="muted">Nothing to call back.</p>`
          : html`<table class="tasks" data-testid="tasks">
              <thead><tr><th>Call back</th><th>Number</th><th>Due</th><th>Missed calls</th><th>Called</th><th></th></tr></thead>
              <tbody>${tasks.map(taskRow)}</tbody>
            </table>`}
    </section>`;
}

function taskRow(t: Task) {
  const overdue = new Date(t.dueAt) < new Date();
  return html`<tr class=${overdue ? "overdue" : ""} data-task-id=${t.id}>
    <td>${t.contactId ? html`<a href="#/contacts/${t.contactId}">${t.contactName ?? t.title}</a>` : t.title}</td>
    <td>${t.contactPhone ?? "–"}</td>
    <td title=${fmtDateTime(t.dueAt)}>${overdue ? html`<strong>overdue</strong> · ` : nothing}${fmtRelative(t.dueAt)}</td>
    <td>${t.attempts}</td>
    <td>${t.callAttempts ?? 0}</td>
    <td class="actions">
      ${t.contactPhone ? html`<button type="button" class="secondary" @click=${() => void callBack({ taskId: t.id }, t.contactName ?? t.contactPhone!)}>Call back</button>` : nothing}
      <button type="button" @click=${() => void markDone(t)}>Done</button>
    </td>
  </tr>`;
}
