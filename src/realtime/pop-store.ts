import type { DataSource, EntityManager } from "typeorm";
import type { ScreenPopContent } from "../crm";

/** Stored pops: one per (call, agent), so a redelivered event never pops twice. */
export class PopStore {
  constructor(private readonly ds: DataSource) {}

  async save(em: EntityManager, callId: string, userId: string, content: ScreenPopContent): Promise<string> {
    const [row] = await em.query(
      `INSERT INTO screen_pops (call_id, user_id, payload) VALUES ($1, $2, $3)
       ON CONFLICT (call_id, user_id) DO UPDATE SET payload = screen_pops.payload RETURNING id`,
      [callId, userId, JSON.stringify(content)],
    );
    return row.id;
  }

  async markSent(popId: string): Promise<void> {
    await this.ds.query(`UPDATE screen_pops SET status = 'sent', sent_at = now() WHERE id = $1 AND status = 'pending'`, [popId]);
  }

  async markAcked(popId: string): Promise<void> {
    await this.ds.query(`UPDATE screen_pops SET status = 'acked', acked_at = now() WHERE id = $1 AND status IN ('pending', 'sent')`, [popId]);
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
    const rows = await em.query(`SELECT user_id FROM screen_pops WHERE call_id = $1`, [callId]);
    await em.query(`UPDATE screen_pops SET status = 'dismissed', dismissed_at = now() WHERE call_id = $1 AND status <> 'dismissed'`, [callId]);
    return rows.map((r: { user_id: string }) => r.user_id);
  }
}
