import type { Container } from "./container";
import { purgeInChunks, type PurgeChunk } from "./platform/db/purge";
import { purgeDispatched } from "./platform/outbox";
import { purgePops } from "./realtime";
import { purgeSettledDeliveries } from "./webhooks";

/** How often the purge runs (one run per interval in the whole cluster: its job id). */
export const PURGE_INTERVAL_MS = 10 * 60_000;

const DAY_MS = 24 * 3600_000;

/**
 * Deletes what is done with and past its retention (docs/decisions/0015-retention.md), table by
 * table, a chunk per statement. Answers the rows purged per table; a table whose purge failed
 * (logged) does not keep the others from theirs, and is tried again at the next run.
 */
export async function purgeExpired(c: Pick<Container, "ds" | "config" | "crm" | "log">, now = Date.now()): Promise<Record<string, number>> {
  const deliveries = new Date(now - c.config.retention.deliveryDays * DAY_MS);
  const pushes = new Date(now - c.config.retention.pushDays * DAY_MS);
  const tables: Array<[string, PurgeChunk, Date]> = [
    ["inbox", purgeSettledDeliveries(c.ds), deliveries],
    ["webhookDeliveries", (before, limit) => c.crm.outboundWebhooks.purgeLog(before, limit), deliveries],
    ["outbox", purgeDispatched(c.ds), pushes],
    ["screenPopCalls", purgePops(c.ds), pushes],
  ];
  const purged: Record<string, number> = {};
  for (const [table, purge, before] of tables) {
    purged[table] = await purgeInChunks(purge, before).catch((err: Error) => {
      c.log.warn({ table, err: err.message }, "purge failed; it is tried again at the next run");
      return 0;
    });
  }
  return purged;
}
