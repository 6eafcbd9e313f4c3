import type { Container } from "./container";
import { purgeInChunks } from "./platform/db/purge";
import { purgeDispatched } from "./platform/outbox";
import { purgePops } from "./realtime";
import { purgeSettledDeliveries } from "./webhooks";

/** How often the purge runs (one run per interval in the whole cluster: its job id). */
export const PURGE_INTERVAL_MS = 10 * 60_000;

const DAY_MS = 24 * 3600_000;

/**
 * Deletes what is done with and past its retention (docs/decisions/0015-retention.md), table by
 * table, a chunk per statement. Answers the rows purged per table.
 */
export async function purgeExpired(c: Pick<Container, "ds" | "config" | "crm">, now = Date.now()): Promise<Record<string, number>> {
  const deliveries = new Date(now - c.config.retention.deliveryDays * DAY_MS);
  const pushes = new Date(now - c.config.retention.pushDays * DAY_MS);
  return {
    inbox: await purgeInChunks(purgeSettledDeliveries(c.ds), deliveries),
    webhookDeliveries: await purgeInChunks((before, limit) => c.crm.outboundWebhooks.purgeLog(before, limit), deliveries),
    outbox: await purgeInChunks(purgeDispatched(c.ds), pushes),
    screenPopCalls: await purgeInChunks(purgePops(c.ds), pushes),
  };
}
