import type { DataSource, EntityManager } from "typeorm";
import type { ScreenPopContent } from "../crm";

const ACK_FLUSH_MS = 20;

/** Stored pops: one per (call, agent), so a redelivered event never pops twice. */
export class PopStore {
  private acked: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(private readonly ds: DataSource) {}

  /**
   * Stores the pops of one call for its agents in one statement, as `sent`: they are emitted
   * right after the transaction commits. Returns popId per user.
   */
  async saveAll(em: EntityManager, callId: string, userIds: string[], content: ScreenPopContent): Promise<Map<string, string>> {
    const rows: Array<{ id: string; user_id: string }> = await em.query(
      `INSERT INTO screen_pops (call_id, user_id, payload, status, sent_at)
       SELECT $1, u, $3, 'sent', now() FROM unnest($2::uuid[]) AS u
       ON CONFLICT (call_id, user_id) DO UPDATE SET sent_at = now() RETURNING id, user_id`,
      [callId, userIds, JSON.stringify(content)],
    );
    return new Map(rows.map((r) => [r.user_id, r.id]));
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

  /** The agents a call popped for (to dismiss their pops), and dismisses them. */
  async dismiss(em: EntityManager, callId: string): Promise<string[]> {
    // One statement: the update, and every agent the call popped for (dismissed before or now).
    const rows = await em.query(
      `WITH dismissed AS (UPDATE screen_pops SET status = 'dismissed', dismissed_at = now() WHERE call_id = $1 AND status <> 'dismissed')
       SELECT user_id FROM screen_pops WHERE call_id = $1`,
      [callId],
    );
    return rows.map((r: { user_id: string }) => r.user_id);
  }
}
