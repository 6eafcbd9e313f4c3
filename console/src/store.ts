/**
 * The console re-renders from module state: views keep their own data and call rerender()
 * after changing it. One render per frame at most, however many events arrive.
 */
let scheduled = false;
let renderer: () => void = () => undefined;

export function setRenderer(fn: () => void): void {
  renderer = fn;
}

export function rerender(): void {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    renderer();
  });
}

export interface Notice {
  id: number;
  text: string;
  kind: "info" | "error";
}

let nextNotice = 1;
export const notices: Notice[] = [];

/** A short message in the corner (announced to screen readers), gone after a while. */
export function notify(text: string, kind: Notice["kind"] = "info"): void {
  const n = { id: nextNotice++, text, kind };
  notices.push(n);
  if (notices.length > 4) notices.shift();
  rerender();
  setTimeout(() => dismissNotice(n.id), kind === "error" ? 8000 : 5000);
}

export function dismissNotice(id: number): void {
  const i = notices.findIndex((n) => n.id === id);
  if (i >= 0) notices.splice(i, 1);
  rerender();
}

/** Runs an action, turning its failure into an error notice. */
export async function attempt<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    notify((err as Error).message, "error");
    return undefined;
  }
}
