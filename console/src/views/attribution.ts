import { html, svg } from "lit";
import { api, download, qs } from "../api";
import { dayInput, fmtMoney, fmtPercent } from "../format";
import { attempt, rerender } from "../store";

interface Row {
  key: string;
  calls: number;
  uniqueCallers: number;
  firstTimeCallers: number;
  answered: number;
  missed: number;
  deals: number;
  won: number;
  revenue: string | number;
  callToDeal: number | null;
  callToWon: number | null;
}
type GroupBy = "source" | "medium" | "campaign" | "keyword";

const today = new Date();
const filters = { from: dayInput(new Date(today.getTime() - 29 * 86_400_000)), to: dayInput(today), groupBy: "source" as GroupBy };
let report: { items: Row[]; totals: Omit<Row, "key"> } | undefined;

/** Local calendar days → the instants the API takes: [from 00:00, the day after `to` 00:00). */
function period() {
  const from = new Date(`${filters.from}T00:00:00`);
  const to = new Date(`${filters.to}T00:00:00`);
  to.setDate(to.getDate() + 1);
  return { from: from.toISOString(), to: to.toISOString(), groupBy: filters.groupBy };
}

export async function loadAttribution(): Promise<void> {
  report = await attempt(() => api<{ items: Row[]; totals: Omit<Row, "key"> }>(`/api/reports/attribution${qs(period())}`));
  rerender();
}

function onFilters(e: SubmitEvent) {
  e.preventDefault();
  const data = new FormData(e.currentTarget as HTMLFormElement);
  filters.from = String(data.get("from") || filters.from);
  filters.to = String(data.get("to") || filters.to);
  filters.groupBy = String(data.get("groupBy")) as GroupBy;
  void loadAttribution();
}

const csv = () => attempt(() => download(`/api/reports/attribution${qs({ ...period(), format: "csv" })}`, `attribution-${filters.groupBy}-${filters.from}-${filters.to}.csv`));

export function attributionView() {
  return html`<h1>Where calls come from</h1>
    <form class="inline filters" @submit=${onFilters}>
      <label>From <input type="date" name="from" .value=${filters.from} required /></label>
      <label>To <input type="date" name="to" .value=${filters.to} required /></label>
      <label>By
        <select name="groupBy">
          ${(["source", "medium", "campaign", "keyword"] as const).map((g) => html`<option value=${g} ?selected=${g === filters.groupBy}>${g}</option>`)}
        </select>
      </label>
      <button type="submit">Show</button>
      <button type="button" class="secondary" @click=${() => void csv()}>Download CSV</button>
    </form>
    ${report === undefined ? html`<p class="muted">Loading…</p>` : reportBody(report)}`;
}

function reportBody(r: { items: Row[]; totals: Omit<Row, "key"> }) {
  if (!r.items.length) return html`<p class="muted">No calls in this period.</p>`;
  return html`${chart(r.items.slice(0, 12))}
    <table data-testid="attribution"><thead><tr>
      <th>${filters.groupBy}</th><th>Calls</th><th>Unique callers</th><th>First-time</th><th>Answered</th><th>Missed</th>
      <th>Deals</th><th>Won</th><th>Revenue</th><th>Call → deal</th><th>Call → won</th></tr></thead>
      <tbody>${r.items.map((x) => html`<tr><td>${x.key}</td>${cells(x)}</tr>`)}</tbody>
      <tfoot><tr><th>Total</th>${cells(r.totals)}</tr></tfoot>
    </table>`;
}

const cells = (x: Omit<Row, "key">) =>
  html`<td>${x.calls}</td><td>${x.uniqueCallers}</td><td>${x.firstTimeCallers}</td><td>${x.answered}</td><td>${x.missed}</td>
    <td>${x.deals}</td><td>${x.won}</td><td>${fmtMoney(x.revenue)}</td><td>${fmtPercent(x.callToDeal)}</td><td>${fmtPercent(x.callToWon)}</td>`;

/** Calls and revenue per group as paired horizontal bars, each scaled to its own maximum. */
function chart(rows: Row[]) {
  const maxCalls = Math.max(1, ...rows.map((r) => r.calls));
  const maxRevenue = Math.max(1, ...rows.map((r) => Number(r.revenue)));
  const rowH = 34;
  const labelW = 170;
  const barW = 520;
  return html`<figure class="chart">
    <svg viewBox="0 0 ${labelW + barW + 110} ${rows.length * rowH + 8}" role="img" aria-label="Calls and revenue by ${filters.groupBy}" data-testid="attribution-chart">
      ${rows.map((r, i) => {
        const y = i * rowH + 4;
        const cw = (r.calls / maxCalls) * barW;
        const rw = (Number(r.revenue) / maxRevenue) * barW;
        return svg`<g>
          <text x=${labelW - 8} y=${y + 17} text-anchor="end" class="label">${r.key.length > 22 ? `${r.key.slice(0, 21)}…` : r.key}</text>
          <rect x=${labelW} y=${y} width=${Math.max(cw, 1)} height="12" class="bar-calls"><title>${r.calls} calls</title></rect>
          <text x=${labelW + cw + 6} y=${y + 10} class="value">${r.calls} ${r.calls === 1 ? "call" : "calls"}</text>
          <rect x=${labelW} y=${y + 14} width=${Math.max(rw, 1)} height="12" class="bar-revenue"><title>${fmtMoney(r.revenue)} revenue</title></rect>
          <text x=${labelW + rw + 6} y=${y + 24} class="value">${fmtMoney(r.revenue)}</text>
        </g>`;
      })}
    </svg>
    <figcaption><span class="key calls"></span> calls <span class="key revenue"></span> revenue</figcaption>
  </figure>`;
}
