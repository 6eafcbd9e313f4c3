import type { Container } from "./container";
import { purgeInChunks, type PurgeChunk } from "./platform/db/purge";
import { purgeDispatched } from "./platform/outbox";
import { purgePops } from "./realtime";
import { purgePoolExhaustions, purgeStaleSessions } from "./tracking";
import { purgeSettledDeliveries } from "./webhooks";

/** How often the purge runs (one run per interval in the whole cluster: its job id). */
export const PURGE_INTERVAL_MS = 10 * 60_000;

const DAY_MS = 24 * 3600_000;

export interface PurgeRun {
  /** Rows deleted per table. */
  purged: Record<string, number>;
  /** Tables whose purge failed (logged); they are tried again at the next run. */
  failed: string[];
}

/**
 * Deletes what is done with and past its retention (docs/decisions/0015-retention.md), table by
 * table, a chunk per statement. A table whose purge fails does not keep the others from theirs.
 */
export async function purgeExpired(c: Pick<Container, "ds" | "config" | "crm" | "log">, now = Date.now()): Promise<PurgeRun> {
  const deliveries = new Date(now - c.config.retention.deliveryDays * DAY_MS);
  const pushes = new Date(now - c.config.retention.pushDays * DAY_MS);
  const sessions = new Date(now - c.config.retention.trackingSessionDays * DAY_MS);
  const tables: Array<[string, PurgeChunk, Date]> = [
    ["inbox", purgeSettledDeliveries(c.ds), deliveries],
    ["webhookDeliveries", (before, limit) => c.crm.outboundWebhooks.purgeLog(before, limit), deliveries],
    ["outbox", purgeDispatched(c.ds), pushes],
    ["screenPopCalls", purgePops(c.ds), pushes],
    ["trackingSessions", purgeStaleSessions(c.ds), sessions],
    ["trackingPoolExhaustions", purgePoolExhaustions(c.ds), sessions],
  ];
  const run: PurgeRun = { purged: {}, failed: [] };
  for (const [table, purge, before] of tables) {
    run.purged[table] = await purgeInChunks(purge, before).catch((err: Error) => {
      c.log.warn({ table, err: err.message }, "purge failed; it is tried again at the next run");
      run.failed.push(table);
      return 0;
    });
  }
  return run;
}
