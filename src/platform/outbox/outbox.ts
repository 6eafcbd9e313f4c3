import type { EntityManager } from "typeorm";

/** What realtime and outbound webhooks must push; written in the same transaction as the change. */
export interface OutboxTopics {
  "screen-pop": { callId: string; userIds: string[] };
  "call.update": { callId: string; status: string; outcome: string | null; answeredBy: string | null };
  "task.assigned": { taskId: string; assigneeId: string };
}

export type OutboxTopic = keyof OutboxTopics;

/** The dedupe key makes a re-applied event write nothing new. */
export async function addToOutbox<T extends OutboxTopic>(em: EntityManager, topic: T, payload: OutboxTopics[T], dedupeKey: string): Promise<void> {
  await em.query(`INSERT INTO outbox (topic, payload, dedupe_key) VALUES ($1, $2, $3) ON CONFLICT (dedupe_key) DO NOTHING`, [
    topic,
    JSON.stringify(payload),
    dedupeKey,
  ]);
}
