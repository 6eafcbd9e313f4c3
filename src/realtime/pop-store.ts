import type { DataSource, EntityManager } from "typeorm";
import type { ScreenPopContent } from "../crm";

const ACK_FLUSH_MS = 20;

/** Stored pops: one per (call, agent), so a redelivered event never pops twice. */
export class PopStore {
  private acked: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(private readonly ds: DataSource) {}

  /**
   * Stores the pops of a batch of calls, one per (call, agent), in one statement, as `sent`:
   * they are emitted right after the transaction commits. Returns popId per `${callId}:${userId}`.
   */
  async saveAll(em: EntityManager, calls: Array<{ callId: string; userIds: string[]; content: ScreenPopContent }>): Promise<Map<string, string>> {
    // One row per (call, agent) even when a batch rings an agent twice (owner first, then everyone).
    const byPair = new Map(
      calls.flatMap((c) => {
        const payload = JSON.stringify(c.content);
        return c.userIds.map((userId) => [popKey(c.callId, userId), { callId: c.callId, userId, payload }] as const);
      }),
    );
    const pairs = [...byPair.values()];
    if (pairs.length === 0) return new Map();
    const rows: Array<{ id: string; call_id: string; user_id: string }> = await em.query(
      `INSERT INTO screen_pops (call_id, user_id, payload, status, sent_at)
       SELECT c, u, p, 'sent', now() FROM unnest($1::uuid[], $2::uuid[], $3::jsonb[]) AS t(c, u, p)
       ORDER BY c, u
       ON CONFLICT (call_id, user_id) DO UPDATE SET sent_at = now() RETURNING id, call_id, user_id`,
      [pairs.map((p) => p.callId), pairs.map((p) => p.userId), pairs.map((p) => p.payload)],
    );
    return new Map(rows.map((r) => [popKey(r.call_id, r.user_id), r.id]));
  }

  /** Acks arrive in bursts (ten agents per call): they are written together every few ms. */
  markAcked(popId: string): void {
    this.acked.push(popId);
    this.flushTimer ??= setTimeout(() => void this.flushAcks(), ACK_FLUSH_MS);
  }

  async flushAcks(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const ids = this.acked.splice(0);
    if (ids.length === 0) return;
    await this.ds
      .query(`UPDATE screen_pops SET status = 'acked', acked_at = now() WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'sent')`, [ids])
      .catch(() => undefined);
  }

  /** Pops still relevant for a user who (re)connects: their call is still ringing. */
  async replayable(userId: string): Promise<Array<{ id: string; payload: ScreenPopContent }>> {
    return this.ds.query(
      `SELECT p.id, p.payload FROM screen_pops p JOIN calls c ON c.id = p.call_id
       WHERE p.user_id = $1 AND p.status <> 'dismissed' AND c.status = 'ringing' ORDER BY p.created_at`,
      [userId],
    );
  }

  /** Dismisses the pops of these calls; returns, per call, every agent it popped for (dismissed before or now). */
  async dismiss(em: EntityManager, callIds: string[]): Promise<Map<string, string[]>> {
    if (callIds.length === 0) return new Map();
    // One statement: the update, and the agents (the select sees the snapshot before the update, which is all we need).
    const rows: Array<{ call_id: string; user_id: string }> = await em.query(
      `WITH dismissed AS (UPDATE screen_pops SET status = 'dismissed', dismissed_at = now() WHERE call_id = ANY($1::uuid[]) AND status <> 'dismissed')
       SELECT call_id, user_id FROM screen_pops WHERE call_id = ANY($1::uuid[])`,
      [callIds],
    );
    const byCall = new Map<string, string[]>();
    for (const r of rows) byCall.set(r.call_id, [...(byCall.get(r.call_id) ?? []), r.user_id]);
    return byCall;
  }
}

export const popKey = (callId: string, userId: string) => `${callId}:${userId}`;
