import { html, nothing } from "lit";
import { api, qs } from "../api";
import { fmtDateTime } from "../format";
import { attempt, notify, rerender } from "../store";
import type { Delivery, Page } from "../types";

type Status = "failed" | "deferred" | "pending";

let status: Status = "failed";
let deliveries: Delivery[] | undefined;
let cursor: string | null | undefined;
/** Payloads shown, by delivery id (loaded when asked for: they can be large). */
const payloads = new Map<string, unknown>();
const retrying = new Set<string>();

export async function loadDeliveries(more = false): Promise<void> {
  const page = await attempt(() => api<Page<Delivery>>(`/api/inbox/deliveries${qs({ status, limit: 50, cursor: more ? cursor : undefined })}`));
  if (page) {
    deliveries = more ? [...(deliveries ?? []), ...page.items] : page.items;
    cursor = page.nextCursor;
  }
  rerender();
}

async function togglePayload(id: string): Promise<void> {
  if (payloads.has(id)) payloads.delete(id);
  else {
    const one = await attempt(() => api<Delivery & { payload: unknown }>(`/api/inbox/deliveries/${encodeURIComponent(id)}`));
    if (one) payloads.set(id, one.payload);
  }
  rerender();
}

/** Pending again and queued: it leaves this list (a failed or deferred one), and is applied within seconds. */
async function retry(d: Delivery): Promise<void> {
  retrying.add(d.id);
  rerender();
  const done = await attempt(() => api<Delivery>(`/api/inbox/deliveries/${encodeURIComponent(d.id)}/retry`, { method: "POST" }));
  retrying.delete(d.id);
  if (done) {
    deliveries = deliveries?.filter((x) => x.id !== d.id);
    notify(`The ${d.source} delivery is queued again.`);
  }
  rerender();
}

/** The provider deliveries not applied yet: what failed (with why), what waits, and the way back for them. */
export function deliveriesView() {
  return html`<h1>Webhook deliveries not applied</h1>
    <p class="muted">Every delivery a provider sent is kept. One that failed ten times, or waited a week for its call, is parked here; fix its cause, then retry it.</p>
    <label>Show
      <select @change=${(e: Event) => ((status = (e.target as HTMLSelectElement).value as Status), void loadDeliveries())}>
        ${(["failed", "deferred", "pending"] as const).map((s) => html`<option value=${s} ?selected=${s === status}>${s}</option>`)}
      </select>
    </label>
    ${deliveries === undefined
      ? html`<p class="muted">Loading…</p>`
      : deliveries.length === 0
        ? html`<p class="muted">None ${status}.</p>`
        : html`<table data-testid="deliveries"><thead><tr><th>Received</th><th>Source</th><th>Tries</th><th>Failures</th><th>Last error</th><th></th></tr></thead><tbody>
            ${deliveries.map(
              (d) => html`<tr data-delivery-id=${d.id}>
                  <td>${fmtDateTime(d.receivedAt)}</td>
                  <td>${d.source}</td>
                  <td>${d.attempts}</td>
                  <td>${d.failures}</td>
                  <td>${d.lastError ?? "–"}</td>
                  <td><div class="row-actions">
                    <button type="button" class="secondary" aria-expanded=${payloads.has(d.id) ? "true" : "false"} @click=${() => void togglePayload(d.id)}>Payload</button>
                    ${d.status === "pending" ? nothing : html`<button type="button" ?disabled=${retrying.has(d.id)} @click=${() => void retry(d)}>Retry</button>`}
                  </div></td>
                </tr>
                ${payloads.has(d.id) ? html`<tr><td colspan="6"><pre class="payload">${JSON.stringify(payloads.get(d.id), null, 2)}</pre></td></tr>` : nothing}`,
            )}
          </tbody></table>
          ${cursor ? html`<button type="button" class="secondary" @click=${() => void loadDeliveries(true)}>More</button>` : nothing}`}`;
}
