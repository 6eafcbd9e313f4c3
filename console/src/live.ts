import { io, type Socket } from "socket.io-client";
import { signOut } from "./session";
import { rerender } from "./store";
import type { BoardAgent, BoardCall, CallUpdate, Presence, ScreenPop, Task } from "./types";

export interface LiveHandlers {
  /** Connected, the first time or again. */
  connected(): void;
  screenPop(pop: ScreenPop): void;
  callUpdate(update: CallUpdate): void;
  taskAssigned(task: Task): void;
  presenceChanged(p: { userId: string; status: Presence }): void;
  boardSnapshot(b: { agents: BoardAgent[]; calls: BoardCall[] }): void;
  listenAudio(a: { callId: string; track: "inbound" | "outbound"; audio: ArrayBuffer }): void;
  listenEnded(e: { callId: string; reason: string }): void;
}

let socket: Socket | undefined;
/** Whether the live connection is up; the header says so when it is not. */
export const connection = { online: false, everConnected: false };

/**
 * The Socket.IO connection of the signed-in user. It reconnects by itself (the service replays
 * pops that were not acknowledged); a refused token means signing in again.
 */
export function connect(token: string, on: LiveHandlers): void {
  disconnect();
  const s = io({ auth: { token }, reconnectionDelayMax: 5000 });
  socket = s;
  s.on("connect", () => {
    const again = connection.everConnected;
    connection.online = true;
    connection.everConnected = true;
    rerender();
    if (again) on.connected();
  });
  s.on("disconnect", (reason) => {
    connection.online = false;
    rerender();
    // The service ends the connection when the token expires; it will not take it back.
    if (reason === "io server disconnect") signOut("Your session has ended. Please sign in again.");
  });
  s.on("connect_error", (err) => {
    connection.online = false;
    rerender();
    if (err.message === "unauthorized") signOut("Your session has ended. Please sign in again.");
  });
  s.on("screen-pop", (pop: ScreenPop, ack?: (r: unknown) => void) => {
    ack?.({ ok: true });
    on.screenPop(pop);
  });
  s.on("call:update", (u: CallUpdate) => on.callUpdate(u));
  s.on("task:assigned", (t: Task) => on.taskAssigned(t));
  s.on("presence:changed", (p: { userId: string; status: Presence }) => on.presenceChanged(p));
  s.on("board:snapshot", (b: { agents: BoardAgent[]; calls: BoardCall[] }) => on.boardSnapshot(b));
  s.on("listen:audio", (a: { callId: string; track: "inbound" | "outbound"; audio: ArrayBuffer }) => on.listenAudio(a));
  s.on("listen:ended", (e: { callId: string; reason: string }) => on.listenEnded(e));
}

export function disconnect(): void {
  socket?.removeAllListeners();
  socket?.disconnect();
  socket = undefined;
  connection.online = false;
}

/** A client → server event with an acknowledgement (or a clear failure when offline or unanswered). */
export function ask(event: string, body: unknown): Promise<{ ok: boolean; error?: string; message?: string; [k: string]: unknown }> {
  return new Promise((resolve) => {
    if (!socket?.connected) return resolve({ ok: false, error: "You are offline" });
    socket.timeout(10_000).emit(event, body, (err: Error | null, r: { ok: boolean; error?: string }) => resolve(err ? { ok: false, error: "No answer from the service" } : r));
  });
}

export function setPresence(status: "available" | "away"): Promise<{ ok: boolean; status?: Presence; error?: string }> {
  return ask("presence:set", { status }) as Promise<{ ok: boolean; status?: Presence; error?: string }>;
}
