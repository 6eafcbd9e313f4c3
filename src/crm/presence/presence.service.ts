import type { DataSource } from "typeorm";
import type { Presence } from "../entities/user.entity";
import { prepared } from "../../platform/db/prepared";
import { returningRows } from "../../platform/db/sql";

/** A connecting user's presence: busy while a call they answered is live (a recent one: calls_answered_by_idx), else available. */
const ON_CONNECT = (userId: string) =>
  `CASE WHEN EXISTS (SELECT 1 FROM calls WHERE answered_by = ${userId} AND started_at > now() - interval '12 hours' AND status = 'in-progress') THEN 'busy' ELSE 'available' END`;

/**
 * Offline → available, or busy while a call they answered is still live (their connection
 * dropped mid-call: they must not be rung, and the call's end frees them); else as it was. One
 * statement for every socket that connects.
 */
const CONNECTED = prepared(
  "presence.connected",
  `WITH woke AS (
     UPDATE users SET presence_changed_at = now(), presence = ${ON_CONNECT("$1")}
     WHERE id = $1 AND presence = 'offline' RETURNING presence)
   SELECT COALESCE((SELECT presence FROM woke), (SELECT presence FROM users WHERE id = $1)) AS presence`,
);

/** CONNECTED for many users at once (a process re-asserting its connections): answers those it changed. */
const CONNECTED_MANY = `UPDATE users u SET presence_changed_at = now(), presence = ${ON_CONNECT("u.id")}
   WHERE u.id = ANY($1::uuid[]) AND u.presence = 'offline' RETURNING u.id, u.presence`;

/**
 * Agent presence, as routing reads it: `available` agents ring. Connections make an agent
 * available (unless they said away), the last connection gone makes them offline, and a live
 * call makes them busy (set by the call ingest in the same transaction as the call).
 */
export class PresenceService {
  constructor(private readonly ds: DataSource) {}

  async set(userId: string, status: Presence): Promise<void> {
    await this.ds.query(`UPDATE users SET presence = $2, presence_changed_at = now() WHERE id = $1 AND presence <> $2`, [userId, status]);
  }

  /** First socket of a user: offline → available (busy on a live call); away and busy are kept. */
  async connected(userId: string): Promise<Presence> {
    const [row] = await this.ds.query(CONNECTED, [userId]);
    return row?.presence ?? "offline";
  }

  /** Offline → available (busy on a live call) for each of these users; answers those it changed. */
  async connectedMany(userIds: string[]): Promise<Array<{ userId: string; presence: Presence }>> {
    if (userIds.length === 0) return [];
    const rows = await returningRows<{ id: string; presence: Presence }>(this.ds.manager, CONNECTED_MANY, [userIds]);
    return rows.map((r) => ({ userId: r.id, presence: r.presence }));
  }

  /** Users whom presence counts as connected (available, away or busy). */
  async notOffline(): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.ds.query(`SELECT id FROM users WHERE presence <> 'offline'`);
    return rows.map((r) => r.id);
  }

  /** Offline, those of these users who were not; answers them. */
  async setOffline(userIds: string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    const rows = await returningRows<{ id: string }>(
      this.ds.manager,
      `UPDATE users SET presence = 'offline', presence_changed_at = now() WHERE id = ANY($1::uuid[]) AND presence <> 'offline' RETURNING id`,
      [userIds],
    );
    return rows.map((r) => r.id);
  }

  async of(userId: string): Promise<Presence> {
    const [row] = await this.ds.query(`SELECT presence FROM users WHERE id = $1`, [userId]);
    return row?.presence ?? "offline";
  }

  async board(): Promise<Array<{ userId: string; name: string; presence: Presence }>> {
    const rows = await this.ds.query(`SELECT id, name, presence FROM users WHERE is_active AND role = 'agent' ORDER BY name`);
    return rows.map((r: { id: string; name: string; presence: Presence }) => ({ userId: r.id, name: r.name, presence: r.presence }));
  }
}
