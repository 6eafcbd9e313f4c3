import { html } from "lit";
import { api, qs } from "../api";
import { attempt, rerender } from "../store";
import type { Page } from "../types";

let results: Array<{ id: string; name: string; phones: string[]; company?: string | null }> | undefined;
let lastQuery = "";

export async function searchContacts(q: string): Promise<void> {
  lastQuery = q;
  const digits = q.replace(/[^\d+]/g, "");
  // A query that looks like a number is matched as a phone (any format), else by name or email.
  const params = digits.length >= 4 && digits.length >= q.replace(/\s/g, "").length - 4 ? { phone: q } : { q };
  const page = await attempt(() => api<Page<{ id: string; name: string; phones: string[]; company?: string | null }>>(`/api/contacts${qs({ ...params, limit: 50 })}`));
  results = page?.items ?? [];
  rerender();
}

export function contactsView() {
  return html`<h1>Contacts</h1>
    <form class="inline" role="search" @submit=${(e: SubmitEvent) => {
      e.preventDefault();
      void searchContacts(String(new FormData(e.currentTarget as HTMLFormElement).get("q") ?? "").trim());
    }}>
      <input name="q" type="search" aria-label="Name, email or phone" placeholder="Name, email or phone" .value=${lastQuery} />
      <button type="submit">Search</button>
    </form>
    ${results === undefined
      ? html`<p class="muted">Search by the start of a name or email, or by a phone number in any format.</p>`
      : results.length === 0
        ? html`<p class="muted">No contact matches.</p>`
        : html`<table><thead><tr><th>Name</th><th>Company</th><th>Phones</th></tr></thead><tbody>
            ${results.map((c) => html`<tr><td><a href="#/contacts/${c.id}">${c.name}</a></td><td>${c.company ?? ""}</td><td>${c.phones.join(", ")}</td></tr>`)}
          </tbody></table>`}`;
}
