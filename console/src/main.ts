import { html, nothing, render } from "lit";
import "./styles.css";
import { connect, connection, disconnect } from "./live";
import { listeningTo, onListenAudio, onListenEnded, resumeListening, stopListening } from "./listen";
import { onSessionChange, session, signOut } from "./session";
import { dismissNotice, notices, rerender, setRenderer } from "./store";
import type { Role } from "./types";
import { attributionView, loadAttribution } from "./views/attribution";
import { boardView, onBoardCallUpdate, onBoardPresence, onBoardSnapshot } from "./views/board";
import { callbacksView, loadCallbacks } from "./views/callbacks";
import { contactView, loadContact } from "./views/contact";
import { contactsView } from "./views/contacts";
import { deliveriesView, loadDeliveries } from "./views/deliveries";
import { loginView, setLoginReason } from "./views/login";
import { availabilitySwitch, loadTasks, onOwnPresence, onTaskAssigned, operatorView } from "./views/operator";
import { onPopCallUpdate, onScreenPop, popsView } from "./views/pops";
import { loadRecordings, recordingsView } from "./views/recordings";

interface Page {
  path: string;
  title: string;
  roles: Role[];
  view: () => unknown;
  load?: () => Promise<void>;
}

const PAGES: Page[] = [
  { path: "calls", title: "Calls & call-backs", roles: ["agent"], view: operatorView, load: loadTasks },
  { path: "board", title: "Live board", roles: ["supervisor", "admin"], view: boardView },
  { path: "recordings", title: "Recordings", roles: ["supervisor", "admin"], view: recordingsView, load: () => loadRecordings() },
  { path: "callbacks", title: "Call-backs & agents", roles: ["supervisor", "admin"], view: callbacksView, load: loadCallbacks },
  { path: "attribution", title: "Attribution", roles: ["marketer", "admin"], view: attributionView, load: loadAttribution },
  { path: "contacts", title: "Contacts", roles: ["agent", "supervisor", "admin"], view: contactsView },
  { path: "deliveries", title: "Deliveries", roles: ["admin"], view: deliveriesView, load: () => loadDeliveries() },
];

/** #/board, #/contacts/<id>… — hash routes, so the service serves one page. */
function currentRoute(): { page?: Page; contactId?: string } {
  const role = session()?.user.role;
  const [, first, id] = location.hash.replace(/^#/, "").split("/");
  if (first === "contacts" && id && role !== "marketer") return { contactId: decodeURIComponent(id) };
  const allowed = PAGES.filter((p) => role && p.roles.includes(role));
  return { page: allowed.find((p) => p.path === first) ?? allowed[0] };
}

function onRoute(): void {
  const { page, contactId } = currentRoute();
  if (contactId) void loadContact(contactId);
  else void page?.load?.();
  rerender();
  document.querySelector<HTMLElement>("main h1")?.focus();
}

function app() {
  const s = session();
  if (!s) return loginView();
  const { page, contactId } = currentRoute();
  const role = s.user.role;
  return html`<a class="skip" href="#content" @click=${(e: Event) => (e.preventDefault(), document.getElementById("content")?.focus())}>Skip to content</a>
    <header class="top">
      <strong class="brand">Call center</strong>
      <nav aria-label="Main">
        ${PAGES.filter((p) => p.roles.includes(role)).map(
          (p) => html`<a href="#/${p.path}" aria-current=${!contactId && page === p ? "page" : "false"}>${p.title}</a>`,
        )}
      </nav>
      <span class="spacer"></span>
      ${connection.online
        ? html`<span class="status online" title="Live updates are on">● Live</span>`
        : html`<span class="status offline" role="status" data-testid="offline">Offline — reconnecting…</span>`}
      ${role === "agent" ? availabilitySwitch() : nothing}
      <span class="who">${s.user.name} · ${role}</span>
      <button type="button" class="secondary" @click=${() => signOut()}>Sign out</button>
    </header>
    ${role === "agent" ? popsView() : nothing}
    <main id="content" tabindex="-1">${contactId ? contactView() : (page?.view() ?? html`<p>Nothing to show for your role.</p>`)}</main>
    <div class="notices" role="status" aria-live="polite">
      ${notices.map((n) => html`<p class="notice ${n.kind}" @click=${() => dismissNotice(n.id)}>${n.text}</p>`)}
    </div>`;
}

function start(): void {
  const s = session();
  if (s) {
    connect(s.token, {
      connected: () => void resumeListening(),
      screenPop: onScreenPop,
      callUpdate: (u) => {
        onPopCallUpdate(u);
        onBoardCallUpdate(u);
        if (u.status === "completed" && listeningTo() === u.callId) onListenEnded({ callId: u.callId, reason: "the call ended" });
      },
      taskAssigned: onTaskAssigned,
      presenceChanged: (p) => (p.userId === session()?.user.id ? onOwnPresence(p.status) : undefined, onBoardPresence(p)),
      boardSnapshot: onBoardSnapshot,
      listenAudio: onListenAudio,
      listenEnded: onListenEnded,
    });
    onRoute();
  } else {
    void stopListening();
    disconnect();
  }
  rerender();
}

const root = document.getElementById("app")!;
setRenderer(() => render(app(), root));
onSessionChange((reason) => {
  setLoginReason(reason);
  start();
});
window.addEventListener("hashchange", onRoute);
// The header says "offline" at once when the browser knows, before the socket notices.
window.addEventListener("offline", () => rerender());
start();
