import type { EntityManager } from "typeorm";
import { returningRows } from "../../platform/db/sql";
import type { AttributionLabels } from "../attribution/attribution-fields";

/**
 * The report columns of inbound calls (migration CallReportColumns): the primary attribution's
 * labels, the caller, and per grouping when the caller last called in the same group. They make
 * the attribution report one scan of calls. Kept here, in the transaction that changes what
 * they derive from.
 */

const PREV_COLUMNS = `
  lag(started_at) OVER (PARTITION BY caller_key ORDER BY started_at, id) AS p0,
  lag(started_at) OVER (PARTITION BY caller_key, attr_source ORDER BY started_at, id) AS p1,
  lag(started_at) OVER (PARTITION BY caller_key, attr_medium ORDER BY started_at, id) AS p2,
  lag(started_at) OVER (PARTITION BY caller_key, attr_campaign ORDER BY started_at, id) AS p3,
  lag(started_at) OVER (PARTITION BY caller_key, attr_keyword ORDER BY started_at, id) AS p4`;

const SET_PREV = `prev_call_at = x.p0, prev_source_at = x.p1, prev_medium_at = x.p2, prev_campaign_at = x.p3, prev_keyword_at = x.p4`;
/** Only calls whose chain changed are written (a row version less for each of the others). */
const PREV_DIFFERS = `(c.prev_call_at, c.prev_source_at, c.prev_medium_at, c.prev_campaign_at, c.prev_keyword_at)
  IS DISTINCT FROM (x.p0, x.p1, x.p2, x.p3, x.p4)`;


/** A new inbound call's report columns: who called (the contact, else the number) and the labels of its attribution. */
export interface NewCallReport {
  callerKey: string | null;
  labels: AttributionLabels;
  /** Its caller's earlier calls need the chain recomputed once the call is saved (not for a caller's only call). */
  refreshChain: boolean;
}

export function newCallReport(callerKey: string | null, labels: AttributionLabels | null, opts: { onlyCall: boolean }): NewCallReport {
  return {
    callerKey,
    labels: { source: labels?.source ?? null, medium: labels?.medium ?? null, campaign: labels?.campaign ?? null, keyword: labels?.keyword ?? null },
    refreshChain: Boolean(callerKey) && !opts.onlyCall,
  };
}

/** The call's primary attribution changed (a tracker's report). */
export async function recordAttributionChange(em: EntityManager, callId: string, labels: AttributionLabels): Promise<void> {
  const [row] = await returningRows<{ caller_key: string | null }>(
    em,
    `UPDATE calls SET attr_source = $2, attr_medium = $3, attr_campaign = $4, attr_keyword = $5 WHERE id = $1 RETURNING caller_key`,
    [callId, labels.source, labels.medium, labels.campaign, labels.keyword],
  );
  if (row?.caller_key) await refreshCallerChain(em, row.caller_key);
}

/** Two contacts became one caller: their calls share a key, and the chain is recomputed. */
export async function mergeCallers(em: EntityManager, fromKey: string, intoKey: string): Promise<void> {
  await em.query(`UPDATE calls SET caller_key = $2 WHERE caller_key = $1 AND direction = 'inbound'`, [fromKey, intoKey]);
  await refreshCallerChain(em, intoKey);
}

/** Recomputes, for one caller's inbound calls, when they last called in each group (a caller has few calls). */
export async function refreshCallerChain(em: EntityManager, callerKey: string): Promise<void> {
  await em.query(
    `UPDATE calls c SET ${SET_PREV}
     FROM (SELECT id, ${PREV_COLUMNS} FROM calls WHERE caller_key = $1 AND direction = 'inbound') x
     WHERE c.id = x.id AND ${PREV_DIFFERS}`,
    [callerKey],
  );
}

/**
 * Rebuilds every inbound call's report columns, and the attribution (row and labels) of the
 * deals calls opened, from the calls and their attributions (repairs, bulk loads, tests, the
 * deals linked by an older release during a rolling deploy). Writes only the rows that differ,
 * so a run over columns that are right reads the tables and changes nothing.
 */
export async function rebuildReportColumns(em: EntityManager): Promise<void> {
  // Maintenance over every call: not bound by the per-statement limit requests have.
  await em.query(`SET LOCAL statement_timeout = 0`);
  await em.query(
    `UPDATE calls c SET caller_key = x.caller_key, attr_source = x.source, attr_medium = x.medium, attr_campaign = x.campaign, attr_keyword = x.keyword
     FROM (SELECT k.id, COALESCE(k.contact_id::text, k.from_e164) AS caller_key, a.source, a.medium, a.campaign, a.keyword
           FROM calls k LEFT JOIN call_attributions a ON a.call_id = k.id AND a.is_primary WHERE k.direction = 'inbound') x
     WHERE x.id = c.id AND (c.caller_key, c.attr_source, c.attr_medium, c.attr_campaign, c.attr_keyword)
       IS DISTINCT FROM (x.caller_key, x.source, x.medium, x.campaign, x.keyword)`,
  );
  await em.query(
    `UPDATE calls c SET ${SET_PREV}
     FROM (SELECT id, ${PREV_COLUMNS} FROM calls WHERE direction = 'inbound' AND caller_key IS NOT NULL) x
     WHERE x.id = c.id AND ${PREV_DIFFERS}`,
  );
  await em.query(
    `UPDATE deals d SET attribution_id = a.id, attr_source = a.source, attr_medium = a.medium, attr_campaign = a.campaign, attr_keyword = a.keyword
     FROM call_attributions a
     WHERE a.call_id = d.source_call_id AND a.is_primary
       AND (d.attribution_id, d.attr_source, d.attr_medium, d.attr_campaign, d.attr_keyword) IS DISTINCT FROM (a.id, a.source, a.medium, a.campaign, a.keyword)`,
  );
}
