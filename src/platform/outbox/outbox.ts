import type { EntityManager } from "typeorm";
import { appendOnlyTable, appendRow } from "../db/deferred-writes";

/** What realtime and outbound webhooks must push; written in the same transaction as the change. */
export interface OutboxTopics {
  "screen-pop": { callId: string; userIds: string[] };
  "call.update": { callId: string; status: string; outcome: string | null; answeredBy: string | null };
  "task.assigned": { taskId: string; assigneeId: string };
}

export type OutboxTopic = keyof OutboxTopics;

const OUTBOX = appendOnlyTable("outbox", { topic: "text", payload: "jsonb", dedupe_key: "text" }, "ON CONFLICT (dedupe_key) DO NOTHING");

/**
 * The dedupe key makes a re-applied event write nothing new. Inside deferred writes (an inbox
 * delivery) the row is written when the delivery's work is done, in the same transaction.
 */
export async function addToOutbox<T extends OutboxTopic>(em: EntityManager, topic: T, payload: OutboxTopics[T], dedupeKey: string): Promise<void> {
  await appendRow(em, OUTBOX, [topic, JSON.stringify(payload), dedupeKey]);
}
