import type { EntityManager } from "typeorm";
import { appendOnlyTable, appendRow } from "../db/deferred-writes";
import type { PurgeChunk } from "../db/purge";

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
 * Dispatched rows written before `before`, oldest first, without an index of their own: ids
 * follow the order rows are written in, so each statement reads the next `limit` rows by key
 * after the last one it read, deletes the dispatched and old among them, and the purge stops at
 * the first row young enough to stay. Pending and failed rows are kept (and read past).
 * Stateful: one per purge run.
 */
export function purgeDispatched(db: Pick<EntityManager, "query">): PurgeChunk {
  let after = "0";
  return async (before, limit) => {
    const [row]: Array<{ deleted: number; last: string | null; read: number; young: boolean }> = await db.query(
      `WITH next AS (SELECT id, status, created_at FROM outbox WHERE id > $3 ORDER BY id LIMIT $2),
       gone AS (DELETE FROM outbox WHERE id = ANY(ARRAY(SELECT id FROM next WHERE status = 'done' AND created_at < $1)) RETURNING 1)
       SELECT (SELECT count(*) FROM gone)::int AS deleted, (SELECT max(id) FROM next)::text AS last,
         (SELECT count(*) FROM next)::int AS read, EXISTS (SELECT 1 FROM next WHERE created_at >= $1) AS young`,
      [before, limit, after],
    );
    if (row!.last) after = row!.last;
    return { deleted: row!.deleted, more: row!.read === limit && !row!.young };
  };
}
