import { html } from "lit";
import { api, qs } from "../api";
import { fmtDateTime, fmtDuration, fmtPercent, fmtRelative } from "../format";
import { attempt, rerender } from "../store";
import type { Page, Task } from "../types";
import { agentName } from "./board";

interface MissedReport {
  items: Array<{ missed: number; withinSla: number; late: number; never: number; open: number }>;
  withinSlaRate: number | null;
}
interface AgentsReport {
  items: Array<{
    agentId: string;
    name: string;
    answered: number;
    missedWhileRung: number;
    avgHandleSec: number | null;
    callBacksDone: number;
    callBacksWithinSla: number;
    medianTimeToCallBackSec: number | null;
  }>;
}

let days = 7;
let missed: MissedReport | undefined;
let agents: AgentsReport | undefined;
let overdue: Task[] | undefined;

export async function loadCallbacks(): Promise<void> {
  const period = qs({ from: new Date(Date.now() - days * 86_400_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() });
  const [m, a, o] = await Promise.all([
    attempt(() => api<MissedReport>(`/api/reports/missed-calls${period}`)),
    attempt(() => api<AgentsReport>(`/api/reports/agents${period}`)),
    attempt(() => api<Page<Task>>(`/api/tasks${qs({ assignee: "any", type: "call_back", status: "open", limit: 100 })}`)),
  ]);
  missed = m;
  agents = a;
  overdue = o?.items;
  rerender();
}

export function callbacksView() {
  const m = missed?.items[0];
  const open = overdue ?? [];
  return html`<h1>Call-backs and agents</h1>
    <label>Period
      <select @change=${(e: Event) => ((days = Number((e.target as HTMLSelectElement).value)), void loadCallbacks())}>
        ${[1, 7, 30].map((d) => html`<option value=${d} ?selected=${d === days}>last ${d === 1 ? "day" : `${d} days`}</option>`)}
      </select>
    </label>
    <section aria-labelledby="sla-h">
      <h2 id="sla-h">Missed calls and their call-backs</h2>
      ${m
        ? html`<div class="kpis" data-testid="sla">
            <div><strong>${m.missed}</strong><span>missed</span></div>
            <div><strong>${m.withinSla}</strong><span>called back in time</span></div>
            <div><strong>${m.late}</strong><span>late</span></div>
            <div><strong>${m.open}</strong><span>still open</span></div>
            <div><strong>${m.never}</strong><span>never</span></div>
            <div><strong>${fmtPercent(missed?.withinSlaRate)}</strong><span>within SLA</span></div>
          </div>`
        : html`<p class="muted">Loading…</p>`}
    </section>
    <section aria-labelledby="open-h">
      <h2 id="open-h">Open call-backs (${open.length})</h2>
      ${open.length
        ? html`<table><thead><tr><th>Call back</th><th>Assignee</th><th>Due</th><th>Missed calls</th><th>Called</th></tr></thead><tbody>
            ${open.map((t) => html`<tr class=${new Date(t.dueAt) < new Date() ? "overdue" : ""}>
              <td>${t.contactId ? html`<a href="#/contacts/${t.contactId}">${t.contactName ?? t.title}</a>` : t.title}</td>
              <td>${agentName(t.assigneeId)}</td><td>${fmtRelative(t.dueAt)}</td><td>${t.attempts}</td><td>${t.callAttempts ?? 0}</td></tr>`)}
          </tbody></table>`
        : html`<p class="muted">None open.</p>`}
    </section>
    <section aria-labelledby="agents-perf-h">
      <h2 id="agents-perf-h">Agent performance</h2>
      ${agents
        ? html`<table data-testid="agent-performance"><thead><tr><th>Agent</th><th>Answered</th><th>Missed while rung</th><th>Avg handle</th>
              <th>Call-backs</th><th>In SLA</th><th>Median time to call back</th></tr></thead><tbody>
            ${agents.items.map((a) => html`<tr><td>${a.name}</td><td>${a.answered}</td><td>${a.missedWhileRung}</td><td>${fmtDuration(a.avgHandleSec)}</td>
              <td>${a.callBacksDone}</td><td>${a.callBacksWithinSla}</td><td>${fmtDuration(a.medianTimeToCallBackSec)}</td></tr>`)}
          </tbody></table>`
        : html`<p class="muted">Loading…</p>`}
    </section>
    <p class="muted">Updated ${fmtDateTime(new Date().toISOString())}</p>`;
}
