// The service's payloads as the console reads them (see /api/openapi.json and the README).

export type Role = "agent" | "supervisor" | "marketer" | "admin";
export type Presence = "available" | "away" | "busy" | "offline";

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  dialTarget?: string | null;
}

export interface Touch {
  source: string | null;
  medium: string | null;
  campaign: string | null;
  keyword: string | null;
}

export interface ScreenPop {
  popId: string;
  call: { id: string; direction: string; from: string; to: string; status: string; startedAt: string };
  contact: { id: string; name: string; phones: string[]; isNew: boolean; company: string | null; owner: { id: string; name: string } | null } | null;
  openDeals: Array<{ id: string; title: string; stage: string; amount: string | null }>;
  recentCalls: Array<{ id: string; direction: string; startedAt: string; outcome: string | null; durationSec: number | null; hasRecording: boolean }>;
  openTasks: Array<{ id: string; type: string; title: string; dueAt: string; overdue: boolean }>;
  attribution: Touch | null;
  firstTouch: Touch | null;
  hasEarlierRecordings: boolean;
}

export interface CallUpdate {
  callId: string;
  status: string;
  outcome: string | null;
  answeredBy: string | null;
}

export interface Task {
  id: string;
  type: string;
  status: string;
  title: string;
  contactId: string | null;
  contactName?: string | null;
  contactPhone?: string | null;
  callId: string | null;
  assigneeId: string | null;
  dueAt: string;
  overdue?: boolean;
  /** Missed calls the task stands for. */
  attempts: number;
  /** Calls placed to work it (click-to-call). */
  callAttempts?: number;
}

export interface Call {
  id: string;
  direction: string;
  from: string;
  to: string;
  status: string;
  outcome: string | null;
  missedReason?: string | null;
  answeredBy: string | null;
  startedAt: string;
  durationSec: number | null;
  contactId: string | null;
  contactName?: string | null;
  disposition?: string | null;
  recording: { durationSec: number | null; status: string } | null;
  attribution: (Touch & { method: string; confidence: number }) | null;
}

export interface ContactDetail {
  id: string;
  name: string;
  email: string | null;
  company: string | null;
  phones: string[];
  calls: Array<{ id: string; direction: string; status: string; outcome: string | null; startedAt: string; durationSec: number | null; answeredBy: string | null; hasRecording: boolean }>;
  deals: Array<{ id: string; title: string; stage: string; amount: string | null; status: string; createdAt: string }>;
  tasks: Task[];
  notes: Array<{ id: string; callId: string | null; authorId: string | null; body: string; createdAt: string }>;
  attribution: { firstTouch: Touch | null; lastTouch: Touch | null };
}

export interface BoardAgent {
  userId: string;
  name: string;
  presence: Presence;
}

export interface BoardCall {
  id: string;
  direction: string;
  from: string;
  status: string;
  answeredBy: string | null;
  startedAt: string;
  contactName?: string | null;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}

export const DISPOSITIONS = ["interested", "not-interested", "callback-requested", "sale", "wrong-number", "voicemail", "other"] as const;

/** A provider delivery not applied yet (GET /api/inbox/deliveries). */
export interface Delivery {
  id: string;
  source: string;
  deliveryKey: string;
  status: "failed" | "deferred" | "pending";
  attempts: number;
  failures: number;
  lastError: string | null;
  receivedAt: string;
  availableAt: string;
}
