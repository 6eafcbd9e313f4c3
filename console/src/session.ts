import type { User } from "./types";

export interface Session {
  token: string;
  expiresAt: string;
  user: User;
}

const KEY = "crm.session";
let current: Session | undefined = load();
const listeners = new Set<(reason?: string) => void>();

function load(): Session | undefined {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? "null") as Session | null;
    return s && new Date(s.expiresAt) > new Date() ? s : undefined;
  } catch {
    return undefined;
  }
}

export const session = (): Session | undefined => current;

export function signIn(s: Session): void {
  current = s;
  localStorage.setItem(KEY, JSON.stringify(s));
  listeners.forEach((l) => l());
}

export function signOut(reason?: string): void {
  if (!current) return;
  current = undefined;
  localStorage.removeItem(KEY);
  listeners.forEach((l) => l(reason));
}

/** Called on sign-in and sign-out, in this tab and (through storage events) in the others. */
export function onSessionChange(listener: (reason?: string) => void): void {
  listeners.add(listener);
}

window.addEventListener("storage", (e) => {
  if (e.key !== KEY) return;
  current = load();
  listeners.forEach((l) => l());
});
