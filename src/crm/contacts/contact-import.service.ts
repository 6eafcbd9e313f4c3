import { parse } from "csv-parse";
import type { Readable } from "node:stream";
import type { DataSource, EntityManager } from "typeorm";
import { z } from "zod";
import { AppError } from "../../platform/errors";
import type { Actor, AuditService } from "../audit/audit.service";
import { parsePhone } from "../phones/phone-number";
import type { OutboundEvents } from "../outbound-webhooks/outbound-events";

/** Rows applied per transaction: big enough to be fast, small enough to keep locks short. */
const BATCH = 500;
/** Errors listed in the report; the count covers them all. */
const MAX_REPORTED_ERRORS = 1000;
const MAX_ROWS = 1_000_000;

/** Column names accepted (case-insensitive); phones may also be several columns or `;`-separated. */
const NAME = ["name", "full name", "contact"];
const EMAIL = ["email", "e-mail"];
const COMPANY = ["company", "organisation", "organization"];
const PHONE = /^(phone|phones|mobile|tel|telephone)\s*\d*$/;

const rowSchema = z.object({
  name: z.string().trim().max(200).optional(),
  email: z.email().max(254).optional(),
  company: z.string().trim().max(200).optional(),
});

export interface ImportReport {
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  errors: Array<{ row: number; error: string }>;
}

interface Columns {
  name: string | undefined;
  email: string | undefined;
  company: string | undefined;
  phones: string[];
}

interface Candidate {
  row: number;
  name: string | undefined;
  email: string | undefined;
  company: string | undefined;
  phones: string[];
}

/**
 * Imports contacts from CSV, streamed: rows are parsed and applied in batches, never all held in
 * memory. Phones are normalised; a row whose phone or email matches an existing contact merges
 * into it (empty fields filled, new phones added) instead of duplicating, so importing the same
 * file twice changes nothing the second time. Each failing row gets its own line in the report.
 */
export class ContactImportService {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly defaultRegion: string,
    private readonly events: OutboundEvents,
  ) {}

  async import(actor: Actor, csv: Readable, requestId?: string): Promise<ImportReport> {
    const report: ImportReport = { rows: 0, created: 0, updated: 0, unchanged: 0, failed: 0, errors: [] };
    const fail = (row: number, error: string) => {
      report.failed++;
      if (report.errors.length < MAX_REPORTED_ERRORS) report.errors.push({ row, error });
    };
    const parser = csv.pipe(
      parse({ bom: true, columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), skip_empty_lines: true, skip_records_with_empty_values: true, relax_column_count: true, trim: true, max_record_size: 64 * 1024 }),
    );
    let columns: Columns | undefined;
    let batch: Candidate[] = [];
    try {
      for await (const record of parser as AsyncIterable<Record<string, string>>) {
        columns ??= this.columnsOf(Object.keys(record));
        const row = ++report.rows + 1; // the header is line 1
        if (report.rows > MAX_ROWS) throw new AppError("payload_too_large", `At most ${MAX_ROWS} rows per import`);
        const candidate = this.candidate(row, record, columns, fail);
        if (candidate) batch.push(candidate);
        if (batch.length >= BATCH) {
          await this.apply(actor, batch, report, fail, requestId);
          batch = [];
        }
      }
    } catch (err) {
      if (err instanceof AppError) throw err;
      const message = (err as Error).message ?? String(err);
      // The rows before the fault are applied and reported; the fault itself is this import's answer.
      throw new AppError("validation_failed", `The CSV could not be read at row ${report.rows + 1}: ${message}`, { report });
    }
    if (!columns) throw new AppError("validation_failed", "The CSV has no header row");
    if (batch.length > 0) await this.apply(actor, batch, report, fail, requestId);
    return report;
  }

  private columnsOf(header: string[]): Columns {
    const find = (names: string[]) => header.find((h) => names.includes(h));
    const cols = { name: find(NAME), email: find(EMAIL), company: find(COMPANY), phones: header.filter((h) => PHONE.test(h)) };
    if (!cols.name && cols.phones.length === 0 && !cols.email) {
      throw new AppError("validation_failed", `The CSV needs a name, email or phone column; found: ${header.slice(0, 20).join(", ") || "none"}`);
    }
    return cols;
  }

  private candidate(row: number, record: Record<string, string>, cols: Columns, fail: (row: number, e: string) => void): Candidate | undefined {
    const raw = (col?: string) => (col ? record[col]?.trim() || undefined : undefined);
    if (Object.values(record).some((v) => v.includes("\uFFFD"))) return void fail(row, "not valid UTF-8 text");
    const parsed = rowSchema.safeParse({ name: raw(cols.name), email: raw(cols.email)?.toLowerCase(), company: raw(cols.company) });
    if (!parsed.success) return void fail(row, parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    const phones: string[] = [];
    for (const value of cols.phones.flatMap((c) => (record[c] ?? "").split(";")).map((v) => v.trim()).filter(Boolean)) {
      const p = parsePhone(value, this.defaultRegion);
      if (p.kind !== "number") return void fail(row, `"${value.slice(0, 40)}" is not a phone number`);
      if (!phones.includes(p.e164)) phones.push(p.e164);
    }
    const { name, email, company } = parsed.data;
    if (!name && phones.length === 0 && !email) return void fail(row, "no name, email or phone");
    return { row, name, email, company, phones };
  }

  /** One transaction per batch: match by phone, then email; create or fill in; audit each change. */
  private async apply(actor: Actor, rows: Candidate[], report: ImportReport, fail: (row: number, e: string) => void, requestId?: string): Promise<void> {
    await this.ds.transaction(async (em) => {
      const byPhone = new Map<string, string>(
        (await em.query(
          `SELECT p.e164, p.contact_id FROM contact_phones p JOIN contacts c ON c.id = p.contact_id WHERE p.e164 = ANY ($1::text[]) AND c.deleted_at IS NULL`,
          [rows.flatMap((r) => r.phones)],
        )).map((r: { e164: string; contact_id: string }) => [r.e164, r.contact_id]),
      );
      const byEmail = new Map<string, string>(
        (await em.query(`SELECT lower(email) AS email, min(id::text) AS id FROM contacts WHERE lower(email) = ANY ($1::text[]) AND deleted_at IS NULL GROUP BY 1`, [
          rows.map((r) => r.email).filter(Boolean),
        ])).map((r: { email: string; id: string }) => [r.email, r.id]),
      );
      for (const r of rows) {
        const matches = new Set([...r.phones.map((p) => byPhone.get(p)), r.email ? byEmail.get(r.email) : undefined].filter((x): x is string => Boolean(x)));
        if (matches.size > 1) {
          fail(r.row, "its phones or email belong to different contacts: merge them first");
          continue;
        }
        const [existing] = [...matches];
        const id = existing ? await this.fillIn(em, actor, existing, r, report, requestId) : await this.create(em, actor, r, report, requestId);
        for (const p of r.phones) byPhone.set(p, id);
        if (r.email) byEmail.set(r.email, id);
      }
    });
  }

  private async create(em: EntityManager, actor: Actor, r: Candidate, report: ImportReport, requestId?: string): Promise<string> {
    const name = r.name ?? r.email ?? r.phones[0]!;
    const [c] = await em.query(`INSERT INTO contacts (name, email, company) VALUES ($1, $2, $3) RETURNING id`, [name, r.email ?? null, r.company ?? null]);
    for (const p of r.phones) await em.query(`INSERT INTO contact_phones (contact_id, e164, raw) VALUES ($1, $2, $2) ON CONFLICT (e164) DO NOTHING`, [c.id, p]);
    await this.audit.record(em, { actor, action: "create", entity: "contact", entityId: c.id, after: { name, email: r.email ?? null, company: r.company ?? null, phones: r.phones, source: "import" }, requestId });
    await this.events.emit(em, "contact.created", `contact.created:${c.id}`, { contact: { id: c.id, name, email: r.email ?? null, company: r.company ?? null, phones: r.phones, source: "import" } });
    report.created++;
    return c.id;
  }

  /** Fills what the contact lacks; a row that adds nothing leaves it (and the audit log) untouched. */
  private async fillIn(em: EntityManager, actor: Actor, id: string, r: Candidate, report: ImportReport, requestId?: string): Promise<string> {
    const [before] = await em.query(
      `SELECT name, email, company, COALESCE((SELECT array_agg(e164 ORDER BY e164) FROM contact_phones WHERE contact_id = $1), '{}') AS phones
       FROM contacts WHERE id = $1 FOR UPDATE`,
      [id],
    );
    const newPhones = r.phones.filter((p) => !before.phones.includes(p));
    const fills = { email: !before.email && r.email ? r.email : null, company: !before.company && r.company ? r.company : null };
    if (newPhones.length === 0 && !fills.email && !fills.company) {
      report.unchanged++;
      return id;
    }
    await em.query(`UPDATE contacts SET email = COALESCE(email, $2), company = COALESCE(company, $3), updated_at = now() WHERE id = $1`, [id, fills.email, fills.company]);
    for (const p of newPhones) await em.query(`INSERT INTO contact_phones (contact_id, e164, raw) VALUES ($1, $2, $2) ON CONFLICT (e164) DO NOTHING`, [id, p]);
    const after = { ...before, email: before.email ?? fills.email, company: before.company ?? fills.company, phones: [...before.phones, ...newPhones].sort() };
    await this.audit.record(em, { actor, action: "update", entity: "contact", entityId: id, before, after: { ...after, source: "import" }, requestId });
    report.updated++;
    return id;
  }
}
