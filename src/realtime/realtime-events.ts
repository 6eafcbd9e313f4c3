import type { ScreenPopContent } from "../crm";

/** The screen-pop as agents receive it: our own card plus the pop's id (for the ack). */
export type ScreenPopMessage = { popId: string } & ScreenPopContent;

export interface CallUpdateMessage {
  callId: string;
  status: string;
  outcome: string | null;
  answeredBy: string | null;
}

export interface TaskMessage {
  id: string;
  type: string;
  status: string;
  title: string;
  contactId: string | null;
  callId: string | null;
  assigneeId: string | null;
  dueAt: string;
  attempts: number;
}

export interface PresenceMessage {
  userId: string;
  status: string;
}

export interface BoardSnapshot {
  agents: Array<{ userId: string; name: string; presence: string }>;
  calls: Array<{ id: string; direction: string; from: string; status: string; answeredBy: string | null; startedAt: string; contactName: string | null }>;
}

export type Ack = (response: { ok: boolean; [k: string]: unknown }) => void;

/** A piece of a listened call's audio: raw µ-law 8 kHz mono (binary), one track, ~100 ms. */
export interface ListenAudioMessage {
  callId: string;
  track: "inbound" | "outbound";
  /** Milliseconds since the stream started. */
  timestamp: number;
  audio: Buffer;
}

export interface ServerToClientEvents {
  "screen-pop": (pop: ScreenPopMessage, ack: (received?: unknown) => void) => void;
  "call:update": (update: CallUpdateMessage) => void;
  "task:assigned": (task: TaskMessage) => void;
  "presence:changed": (p: PresenceMessage) => void;
  "board:snapshot": (b: BoardSnapshot) => void;
  "listen:audio": (a: ListenAudioMessage) => void;
  "listen:ended": (e: { callId: string; reason: string }) => void;
}

export interface ClientToServerEvents {
  "presence:set": (body: unknown, ack?: Ack) => void;
  "listen:start": (body: unknown, ack?: Ack) => void;
  "listen:stop": (body: unknown, ack?: Ack) => void;
}

/** One call's pops: its card once, and each rung agent's pop id. */
export interface PopDelivery {
  content: ScreenPopContent;
  to: Array<{ userId: string; popId: string }>;
}

/** Between the processes of the cluster (Socket.IO's server-side emit). */
export interface ClusterEvents {
  /** Pops for each process to deliver to its own connections, and to mark acknowledged. */
  "screen-pops": (calls: PopDelivery[]) => void;
}

export interface SocketData {
  userId: string;
  role: string;
  /** When the handshake's token expires (ms since the epoch): the connection ends then. */
  expiresAt: number;
}
