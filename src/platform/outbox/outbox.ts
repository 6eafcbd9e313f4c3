import type { EntityManager } from "typeorm";
import { appendOnlyTable, appendRow } from "../db/deferred-writes";
import { purgeStatement, type PurgeChunk } from "../db/purge";

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

/**
 * Dispatched rows written before `before`, oldest first. Ids follow the order rows were written
 * in, so the oldest are found by key up to the first row young enough to stay, without an index
 * of their own. Pending and failed rows are kept.
 */
export const purgeDispatched = (db: Pick<EntityManager, "query">): PurgeChunk =>
  purgeStatement(
    db,
    `gone AS (
       DELETE FROM outbox WHERE id = ANY(ARRAY(
         SELECT id FROM outbox WHERE status = 'done'
           AND id < COALESCE((SELECT id FROM outbox WHERE created_at >= $1 ORDER BY id LIMIT 1), 9223372036854775807)
         ORDER BY id LIMIT $2))
       RETURNING 1)`,
  );
