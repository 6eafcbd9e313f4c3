import { z } from "zod";
import { AppError } from "../errors";

const DAY_MS = 86_400_000;
const dateOrTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

export const dateRangeFields = { from: dateOrTime.optional(), to: dateOrTime.optional() };

/**
 * A report period [from, to). A plain date in `to` includes that whole day (UTC). Default: the
 * last 30 days; at most `maxDays` long so one request cannot scan years of calls.
 */
export function dateRange(q: { from?: string; to?: string }, maxDays = 366): { from: Date; to: Date } {
  const to = q.to ? new Date(q.to.length === 10 ? Date.parse(q.to) + DAY_MS : Date.parse(q.to)) : new Date();
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * DAY_MS);
  if (from >= to) throw new AppError("validation_failed", "from must be before to");
  if (to.getTime() - from.getTime() > maxDays * DAY_MS) throw new AppError("validation_failed", `the period may span at most ${maxDays} days`);
  return { from, to };
}
