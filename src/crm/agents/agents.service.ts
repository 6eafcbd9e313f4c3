import type { DataSource, EntityManager } from "typeorm";
import { prepared } from "../../platform/db/prepared";
import { ownerByPhoneSql } from "../contacts/contacts.service";

export interface DialableAgent {
  userId: string;
  dialTarget: string;
}

/**
 * The agent a dial target (client:alice, sip:..., a phone) rings, as a scalar subquery on the
 * parameter `param`: other statements (a call leg's upsert) resolve it in their own round trip.
 */
export const userByDialTargetSql = (param: string): string =>
  `(SELECT id FROM users WHERE dial_target = ${param} AND is_active ORDER BY created_at LIMIT 1)`;

const MARK_BUSY = prepared("users.mark_busy", `UPDATE users SET presence = 'busy', presence_changed_at = now() WHERE id = $1 AND presence = 'available'`);
const MARK_FREE = prepared("users.mark_free", `UPDATE users SET presence = 'available', presence_changed_at = now() WHERE id = $1 AND presence = 'busy'`);
/** $2: a caller's number, whose contact's owner (when available) comes first and is flagged. */
const AVAILABLE_AGENTS = prepared(
  "users.available_agents",
  `SELECT u.id, u.dial_target, COALESCE(u.id = o.owner_id, false) AS is_owner
   FROM users u LEFT JOIN (SELECT ${ownerByPhoneSql("$2::text")} AS owner_id) o ON true
   WHERE u.is_active AND u.presence = 'available' AND u.dial_target IS NOT NULL
   ORDER BY COALESCE(u.id = o.owner_id, false) DESC, u.presence_changed_at NULLS FIRST, u.created_at LIMIT $1`,
);

/** Who can take calls: active users with a dial target whose presence is "available". */
export class AgentsService {
  constructor(private readonly ds: DataSource) {}

  /**
   * Longest-idle first, so load spreads evenly when more agents are free than we ring. With a
   * caller's number: their contact's owner first when available (`ownerId`), in the same round trip.
   */
  async availableAgents(limit: number, callerE164: string | null = null): Promise<{ agents: DialableAgent[]; ownerId: string | null }> {
    const rows: Array<{ id: string; dial_target: string; is_owner: boolean }> = await this.ds.query(AVAILABLE_AGENTS, [limit, callerE164]);
    return { agents: rows.map((r) => ({ userId: r.id, dialTarget: r.dial_target })), ownerId: rows.find((r) => r.is_owner)?.id ?? null };
  }

  /** PBX events name the agent by email, dial target or extension. */
  async userIdByAgentRef(em: EntityManager, ref: string): Promise<string | null> {
    const [row] = await em.query(
      `SELECT id FROM users WHERE is_active AND (lower(email) = lower($1) OR dial_target = $1 OR dial_target = 'client:' || $1)
       ORDER BY created_at LIMIT 1`,
      [ref],
    );
    return row?.id ?? null;
  }

  /** On a call: an available agent is busy (routing skips them); back to available after it. */
  async markBusy(em: EntityManager, userId: string): Promise<void> {
    await em.query(MARK_BUSY, [userId]);
  }

  async markFree(em: EntityManager, userId: string): Promise<void> {
    await em.query(MARK_FREE, [userId]);
  }
}
