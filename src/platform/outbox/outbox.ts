import type { EntityManager } from "typeorm";
import { DeferredWrites, type DeferredTable } from "../db/deferred-writes";
import { prepared } from "../db/prepared";

/** What realtime and outbound webhooks must push; written in the same transaction as the change. */
export interface OutboxTopics {
  "screen-pop": { callId: string; userIds: string[] };
  "call.update": { callId: string; status: string; outcome: string | null; answeredBy: string | null };
  "task.assigned": { taskId: string; assigneeId: string };
}

export type OutboxTopic = keyof OutboxTopics;

const INSERT_OUTBOX = prepared("outbox.insert", `INSERT INTO outbox (topic, payload, dedupe_key) VALUES ($1, $2, $3) ON CONFLICT (dedupe_key) DO NOTHING`);

const OUTBOX_TABLE: DeferredTable = {
  table: "outbox",
  columns: [
    { name: "topic", type: "text" },
    { name: "payload", type: "jsonb" },
    { name: "dedupe_key", type: "text" },
  ],
  onConflict: "ON CONFLICT (dedupe_key) DO NOTHING",
};

/**
 * The dedupe key makes a re-applied event write nothing new. Inside deferred writes (an inbox
 * delivery) the row is written when the delivery's work is done, in the same transaction.
 */
export async function addToOutbox<T extends OutboxTopic>(em: EntityManager, topic: T, payload: OutboxTopics[T], dedupeKey: string): Promise<void> {
  const row = [topic, JSON.stringify(payload), dedupeKey];
  const deferred = DeferredWrites.of(em);
  if (deferred) deferred.add(OUTBOX_TABLE, row);
  else await em.query(INSERT_OUTBOX, row);
}
