import type { DataSource } from "typeorm";
import { purgeStatement, type PurgeChunk } from "../platform/db/purge";

/**
 * Applied and ignored deliveries received before `before`, oldest first (inbox_settled_idx).
 * Their delivery keys go with them: a provider's retry of one after that would be applied again,
 * hence a retention of at least a week (DELIVERY_RETENTION_DAYS). Pending, deferred and failed
 * deliveries are never purged.
 */
export const purgeSettledDeliveries = (ds: DataSource): PurgeChunk =>
  purgeStatement(
    ds,
    `gone AS (
       DELETE FROM inbox WHERE id = ANY(ARRAY(
         SELECT id FROM inbox WHERE status IN ('done', 'ignored') AND received_at < $1 ORDER BY received_at LIMIT $2))
       RETURNING 1)`,
  );
