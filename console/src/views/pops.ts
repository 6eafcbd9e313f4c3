import { html, nothing } from "lit";
import { repeat } from "lit/directives/repeat.js";
import { api } from "../api";
import { fmtDateTime, fmtDuration, fmtMoney, fmtRelative, touchText } from "../format";
import { session } from "../session";
import { attempt, notify, rerender } from "../store";
import { DISPOSITIONS, type CallUpdate, type ScreenPop } from "../types";

/**
 * A pop while the phone rings; once this agent answers, the same card stays for the call and
 * asks for the wrap-up, and shrinks to one line when the call has ended.
 */
interface PopCard {
  pop: ScreenPop;
  state: "ringing" | "on-call" | "wrap-up";
  saving?: boolean;
}

const cards = new Map<string, PopCard>();

export function onScreenPop(pop: ScreenPop): void {
  // A replay (reconnect, second tab) of a pop already shown changes nothing.
  if (cards.has(pop.call.id)) return;
  cards.set(pop.call.id, { pop, state: pop.call.status === "in-progress" ? "on-call" : "ringing" });
  rerender();
}

export function onPopCallUpdate(u: CallUpdate): void {
  const card = cards.get(u.callId);
  if (!card) return;
  const me = session()?.user.id;
  if (u.answeredBy && u.answeredBy === me) {
    card.state = u.status === "completed" ? "wrap-up" : "on-call";
  } else if (u.answeredBy) {
    cards.delete(u.callId);
    notify(`${callerName(card.pop)}: answered by a colleague`);
  } else if (u.status === "completed") {
    if (card.state === "ringing") {
      cards.delete(u.callId);
      notify(`${callerName(card.pop)}: missed — a call-back task was created`);
    }
  }
  rerender();
}

export const hasPops = () => cards.size > 0;

const callerName = (p: ScreenPop) => p.contact?.name ?? p.call.from;

async function wrapUp(callId: string, form: HTMLFormElement): Promise<void> {
  const card = cards.get(callId);
  if (!card) return;
  const data = new FormData(form);
  const disposition = String(data.get("disposition") ?? "");
  const note = String(data.get("note") ?? "").trim();
  card.saving = true;
  rerender();
  const ok = await attempt(async () => {
    if (disposition) await api(`/api/calls/${callId}/disposition`, { method: "PUT", body: { disposition } });
    if (note) await api(`/api/calls/${callId}/notes`, { method: "POST", body: { body: note } });
    return true;
  });
  card.saving = false;
  if (ok) {
    cards.delete(callId);
    notify("Call saved");
  }
  rerender();
}

export function popsView() {
  if (!cards.size) return nothing;
  return html`<section class="pops" aria-label="Incoming calls" aria-live="assertive">
    ${repeat(
      [...cards.values()].sort((a, b) => ORDER[a.state] - ORDER[b.state]),
      (c) => c.pop.call.id,
      (c) => (c.state === "wrap-up" ? wrapUpCard(c) : popCard(c)),
    )}
  </section>`;
}

/** What needs the agent first: the phone that rings, then the call they are on. */
const ORDER: Record<PopCard["state"], number> = { ringing: 0, "on-call": 1, "wrap-up": 2 };

function wrapUpCard(c: PopCard) {
  return html`<article class="pop wrap-up-card" data-call-id=${c.pop.call.id}>
    <header><span class="badge">Ended</span><strong>${callerName(c.pop)}</strong><span class="muted">${c.pop.call.from}</span></header>
    ${wrapUpForm(c)}
  </article>`;
}

function popCard(c: PopCard) {
  const p = c.pop;
  const contact = p.contact;
  return html`<article class="pop ${c.state}" data-call-id=${p.call.id} data-testid="screen-pop">
    <header>
      <span class="badge ${c.state}">${c.state === "ringing" ? "Ringing" : "On call"}</span>
      <h2>${callerName(p)}</h2>
      ${contact?.isNew ? html`<span class="badge new">New caller</span>` : nothing}
      <span class="muted">${p.call.from} → ${p.call.to}</span>
    </header>
    <div class="pop-grid">
      <dl>
        <dt>Company</dt><dd>${contact?.company ?? "–"}</dd>
        <dt>Owner</dt><dd>${contact?.owner?.name ?? "–"}</dd>
        <dt>Source</dt><dd data-testid="pop-source">${touchText(p.attribution)}</dd>
        <dt>First touch</dt><dd>${touchText(p.firstTouch)}</dd>
      </dl>
      <div>
        <h3>Open deals</h3>
        ${p.openDeals.length
          ? html`<ul>${p.openDeals.map((d) => html`<li>${d.title} · ${d.stage}${d.amount ? ` · ${fmtMoney(d.amount)}` : ""}</li>`)}</ul>`
          : html`<p class="muted">None</p>`}
        <h3>Open tasks</h3>
        ${p.openTasks.length
          ? html`<ul>${p.openTasks.map((t) => html`<li class=${t.overdue ? "overdue" : ""}>${t.title} · due ${fmtRelative(t.dueAt)}</li>`)}</ul>`
          : html`<p class="muted">None</p>`}
      </div>
      <div>
        <h3>Last calls</h3>
        ${p.recentCalls.length
          ? html`<ul>
              ${p.recentCalls.map(
                (r) => html`<li>${fmtDateTime(r.startedAt)} · ${r.direction} · ${r.outcome ?? "–"} ${r.durationSec ? `· ${fmtDuration(r.durationSec)}` : ""}
                  ${r.hasRecording ? html`<span class="badge">recorded</span>` : nothing}</li>`,
              )}
            </ul>`
          : html`<p class="muted">First call</p>`}
      </div>
    </div>
    ${contact ? html`<a href="#/contacts/${contact.id}">Open contact</a>` : nothing}
    ${c.state === "on-call" ? wrapUpForm(c) : nothing}
  </article>`;
}

function wrapUpForm(c: PopCard) {
  const id = c.pop.call.id;
  return html`<form class="wrap-up" @submit=${(e: SubmitEvent) => (e.preventDefault(), void wrapUp(id, e.currentTarget as HTMLFormElement))}>
    <label>Disposition
      <select name="disposition">
        <option value="">–</option>
        ${DISPOSITIONS.map((d) => html`<option value=${d}>${d.replace(/-/g, " ")}</option>`)}
      </select>
    </label>
    <label>Note <textarea name="note" rows="2" maxlength="5000"></textarea></label>
    <div class="actions">
      <button type="submit" ?disabled=${c.saving}>Save</button>
      <button type="button" class="secondary" @click=${() => (cards.delete(id), rerender())}>Close</button>
    </div>
  </form>`;
}
