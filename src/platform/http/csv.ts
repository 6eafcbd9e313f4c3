import type { Response } from "express";
import { stringify } from "csv-stringify/sync";

/**
 * A CSV download. Cells that a spreadsheet would run as a formula (=, +, -, @ first) are
 * prefixed with a quote: report values such as campaign names come from website visitors.
 */
export function sendCsv(res: Response, filename: string, columns: string[], rows: ReadonlyArray<object>): void {
  const body = stringify(
    rows.map((r) => columns.map((c) => defuse((r as Record<string, unknown>)[c]))),
    { header: true, columns },
  );
  res.setHeader("Content-Type", "text/csv; charset=utf-8");
  res.setHeader("Content-Disposition", `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, "_")}"`);
  res.send(body);
}

function defuse(value: unknown): unknown {
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(value)) return `'${value}`;
  return value ?? "";
}
