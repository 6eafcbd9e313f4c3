import { session, signOut } from "./session";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** JSON over fetch with the signed-in user's token; the service's `{ error: { code, message } }` becomes an ApiError. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await send(path, init);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** A file the service makes (CSV), saved by the browser under its own name. */
export async function download(path: string, filename: string): Promise<void> {
  const res = await send(path, {});
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function send(path: string, init: { method?: string; body?: unknown }): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json" };
  const token = session()?.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, { method: init.method ?? "GET", headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  } catch {
    throw new ApiError(0, "offline", "The service cannot be reached. Check your connection.");
  }
  if (res.ok) return res;
  const body = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
  const err = new ApiError(res.status, body?.error?.code ?? "error", body?.error?.message ?? `The service answered ${res.status}`);
  // A token that stopped working (expired, user deactivated) means signing in again.
  if (res.status === 401 && token && path !== "/api/auth/login") signOut("Your session has ended. Please sign in again.");
  throw err;
}

/** Query string from the set values only. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}
