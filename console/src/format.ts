const time = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateTime = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const money = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

export const fmtTime = (iso: string | null | undefined) => (iso ? time.format(new Date(iso)) : "");
export const fmtDateTime = (iso: string | null | undefined) => (iso ? dateTime.format(new Date(iso)) : "");
export const fmtMoney = (v: string | number | null | undefined) => (v === null || v === undefined || v === "" ? "" : money.format(Number(v)));
export const fmtPercent = (v: number | null | undefined) => (v === null || v === undefined ? "–" : `${Math.round(v * 100)}%`);

export function fmtDuration(sec: number | null | undefined): string {
  if (sec === null || sec === undefined) return "";
  const m = Math.floor(sec / 60);
  const s = Math.round(sec % 60);
  return m ? `${m}m ${String(s).padStart(2, "0")}s` : `${s}s`;
}

/** "in 12 min" / "8 min ago", for due times that matter now. */
export function fmtRelative(iso: string, now = Date.now()): string {
  const min = Math.round((new Date(iso).getTime() - now) / 60_000);
  if (Math.abs(min) < 1) return "now";
  const abs = Math.abs(min);
  const span = abs < 60 ? `${abs} min` : abs < 48 * 60 ? `${Math.round(abs / 60)} h` : `${Math.round(abs / 1440)} d`;
  return min > 0 ? `in ${span}` : `${span} ago`;
}

export const touchText = (t: { source: string | null; medium: string | null; campaign: string | null; keyword: string | null } | null) =>
  t ? [t.source, t.medium, t.campaign, t.keyword].map((v) => v ?? "–").join(" / ") : "unknown";

/** YYYY-MM-DD of a date in local time, for <input type="date">. */
export const dayInput = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
