import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn } from "typeorm";

export const SCREEN_POP_STATUSES = ["pending", "sent", "acked", "dismissed"] as const;
export type ScreenPopStatus = (typeof SCREEN_POP_STATUSES)[number];

// Persisted so a (re)connecting agent can be re-sent pops still pending/sent; one per (call_id, user_id).
@Entity({ name: "screen_pops" })
export class ScreenPop {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  /** References calls (telephony component). */
  @Column({ name: "call_id", type: "uuid" })
  callId: string;

  /** References users (crm component). */
  @Column({ name: "user_id", type: "uuid" })
  userId: string;

  /**
   * Neither written nor read: cards are kept once per call in `screen_pop_cards` (migration 14),
   * and migration 18 moved the last ones there. Dropped by a later release (decision 0005).
   */
  @Column({ name: "payload", type: "jsonb", nullable: true })
  payload: Record<string, unknown> | null;

  @Column({ name: "status", type: "text", default: "pending" })
  status: ScreenPopStatus;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @Column({ name: "sent_at", type: "timestamptz", nullable: true })
  sentAt: Date | null;

  @Column({ name: "acked_at", type: "timestamptz", nullable: true })
  ackedAt: Date | null;

  @Column({ name: "dismissed_at", type: "timestamptz", nullable: true })
  dismissedAt: Date | null;
}

/** A ringing call's screen-pop card, once per call, whatever the number of agents it pops for. */
@Entity({ name: "screen_pop_cards" })
export class ScreenPopCard {
  /** References calls (telephony component). */
  @PrimaryColumn({ name: "call_id", type: "uuid" })
  callId: string;

  @Column({ name: "payload", type: "jsonb" })
  payload: Record<string, unknown>;

  @Column({ name: "updated_at", type: "timestamptz", default: () => "now()" })
  updatedAt: Date;
}
