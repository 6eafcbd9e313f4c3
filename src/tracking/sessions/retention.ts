import type { DataSource } from "typeorm";
import { purgeStatement, type PurgeChunk } from "../../platform/db/purge";

/**
 * Website sessions last seen before `before`, oldest first (tracking_sessions_seen_idx); their
 * leases ended long before. A visitor who comes back with a purged session's id is told it is
 * unknown, and tracking.js starts a new session (it keeps the visitor's first touch itself).
 * The attributions of calls keep their own copy of what the session knew.
 */
export const purgeStaleSessions = (ds: DataSource): PurgeChunk =>
  purgeStatement(
    ds,
    `gone AS (
       DELETE FROM tracking_sessions WHERE id = ANY(ARRAY(
         SELECT id FROM tracking_sessions WHERE last_seen_at < $1 AND lease_expires_at < $1 ORDER BY last_seen_at LIMIT $2))
       RETURNING 1)`,
  );

/** Pool exhaustions that happened before `before`, oldest first: the pool report's older periods go with the sessions. */
export const purgePoolExhaustions = (ds: DataSource): PurgeChunk =>
  purgeStatement(
    ds,
    `gone AS (
       DELETE FROM tracking_pool_exhaustions WHERE id = ANY(ARRAY(
         SELECT id FROM tracking_pool_exhaustions WHERE occurred_at < $1 ORDER BY occurred_at LIMIT $2))
       RETURNING 1)`,
  );
