import { html } from "lit";
import { api, ApiError } from "../api";
import { signIn, type Session } from "../session";
import { rerender } from "../store";

let error: string | undefined;
let busy = false;
/** Why the last session ended (expired token, signed out elsewhere), shown above the form. */
export let loginReason: string | undefined;
export const setLoginReason = (r: string | undefined) => (loginReason = r);

async function submit(e: SubmitEvent): Promise<void> {
  e.preventDefault();
  const data = new FormData(e.currentTarget as HTMLFormElement);
  busy = true;
  error = undefined;
  rerender();
  try {
    const s = await api<Session>("/api/auth/login", { method: "POST", body: { email: String(data.get("email")), password: String(data.get("password")) } });
    loginReason = undefined;
    signIn(s);
  } catch (err) {
    error = err instanceof ApiError && err.code === "validation_failed" ? "Enter your email and password." : (err as Error).message;
  } finally {
    busy = false;
    rerender();
  }
}

export function loginView() {
  return html`<main class="login">
    <form @submit=${submit} aria-labelledby="login-h">
      <h1 id="login-h">Sign in</h1>
      ${loginReason ? html`<p class="notice">${loginReason}</p>` : ""}
      <label>Email <input name="email" type="email" autocomplete="username" required autofocus /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      ${error ? html`<p class="error" role="alert">${error}</p>` : ""}
      <button type="submit" ?disabled=${busy}>${busy ? "Signing in…" : "Sign in"}</button>
    </form>
  </main>`;
}
