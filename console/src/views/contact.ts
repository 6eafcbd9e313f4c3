import { html, nothing } from "lit";
import { api } from "../api";
import { fmtDateTime, fmtDuration, fmtMoney, fmtRelative, touchText } from "../format";
import { session } from "../session";
import { attempt, notify, rerender } from "../store";
import type { ContactDetail } from "../types";
import { callBack } from "./operator";
import { recordingPlayer } from "./player";

/** People with phones place calls (the service rings their dial target first). */
const canCall = () => ["agent", "supervisor"].includes(session()?.user.role ?? "");

let contact: ContactDetail | undefined;
let error: string | undefined;

export async function loadContact(id: string): Promise<void> {
  if (contact?.id !== id) contact = undefined;
  error = undefined;
  rerender();
  try {
    contact = await api<ContactDetail>(`/api/contacts/${encodeURIComponent(id)}`);
  } catch (err) {
    error = (err as Error).message;
  }
  rerender();
}

async function addNote(form: HTMLFormElement): Promise<void> {
  if (!contact) return;
  const body = String(new FormData(form).get("body") ?? "").trim();
  if (!body) return;
  const id = contact.id;
  if (await attempt(() => api(`/api/contacts/${id}/notes`, { method: "POST", body: { body } }))) {
    form.reset();
    notify("Note added");
    await loadContact(id);
  }
}

/** Calls, deals, tasks and notes on one line of time, newest first. */
type Entry = { at: string; kind: string; body: unknown };

export function contactView() {
  if (error) return html`<h1>Contact</h1><p class="error">${error}</p>`;
  if (!contact) return html`<h1>Contact</h1><p class="muted">Loading…</p>`;
  const c = contact;
  const canPlay = (answeredBy: string | null) => session()?.user.role !== "agent" || answeredBy === session()?.user.id;
  const entries: Entry[] = [
    ...c.calls.map((x) => ({
      at: x.startedAt,
      kind: "call",
      body: html`${x.direction} call · <strong>${x.outcome ?? x.status}</strong> ${x.durationSec ? `· ${fmtDuration(x.durationSec)}` : ""}
        ${x.hasRecording ? (canPlay(x.answeredBy) ? recordingPlayer(x.id) : html`<span class="badge">recorded</span>`) : nothing}`,
    })),
    ...c.deals.map((d) => ({
      at: d.createdAt,
      kind: "deal",
      body: html`${d.title} · ${d.stage} · <strong>${d.status}</strong>${d.amount ? ` · ${fmtMoney(d.amount)}` : ""}`,
    })),
    ...c.tasks.map((t) => ({
      at: t.dueAt,
      kind: "task",
      body: html`${t.title} · ${t.status === "open" ? html`<strong>open</strong>, due ${fmtRelative(t.dueAt)}` : t.status}`,
    })),
    ...c.notes.map((n) => ({ at: n.createdAt, kind: "note", body: html`<span class="note-body">${n.body}</span>` })),
  ].sort((a, b) => b.at.localeCompare(a.at));
  return html`<h1>${c.name}</h1>
    <dl class="facts">
      <dt>Phones</dt>
      <dd>
        ${c.phones.length ? c.phones.join(", ") : "–"}
        ${c.phones.length && canCall() ? html`<button type="button" class="secondary" @click=${() => void callBack({ contactId: c.id }, c.name)}>Call</button>` : nothing}
      </dd>
      <dt>Company</dt><dd>${c.company ?? "–"}</dd>
      <dt>Email</dt><dd>${c.email ?? "–"}</dd>
      <dt>First touch</dt><dd>${touchText(c.attribution.firstTouch)}</dd>
      <dt>Last touch</dt><dd>${touchText(c.attribution.lastTouch)}</dd>
    </dl>
    <section aria-labelledby="deals-h">
      <h2 id="deals-h">Deals</h2>
      ${c.deals.length
        ? html`<ul>${c.deals.map((d) => html`<li>${d.title} · ${d.stage} · ${d.status}${d.amount ? ` · ${fmtMoney(d.amount)}` : ""}</li>`)}</ul>`
        : html`<p class="muted">No deals</p>`}
    </section>
    <section aria-labelledby="note-h">
      <h2 id="note-h">Add a note</h2>
      <form class="inline" @submit=${(e: SubmitEvent) => (e.preventDefault(), void addNote(e.currentTarget as HTMLFormElement))}>
        <textarea name="body" rows="2" maxlength="5000" aria-label="Note" required></textarea>
        <button type="submit">Add note</button>
      </form>
    </section>
    <section aria-labelledby="timeline-h">
      <h2 id="timeline-h">Timeline</h2>
      <ol class="timeline" data-testid="timeline">
        ${entries.map((e) => html`<li class=${e.kind}><time datetime=${e.at}>${fmtDateTime(e.at)}</time><span class="kind">${e.kind}</span><span>${e.body}</span></li>`)}
      </ol>
    </section>`;
}
