import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";

// A website visit holding a pool number until lease_expires_at; an inbound call to that number
// while the lease is live is attributed to this session.
@Entity({ name: "tracking_sessions" })
export class TrackingSession {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "pool_id", type: "uuid" })
  poolId: string;

  /** null when the pool was exhausted (is_overflow) or the number was deleted. */
  @Column({ name: "tracking_number_id", type: "uuid", nullable: true })
  trackingNumberId: string | null;

  /** The number this session was shown (E.164): a pool number, or the pool's overflow number. */
  @Column({ name: "number", type: "text", nullable: true })
  number: string | null;

  /** Shown a pool number another live session holds, because the pool had none free and no overflow. */
  @Column({ name: "is_shared", type: "boolean", default: false })
  isShared: boolean;

  @Column({ name: "is_overflow", type: "boolean", default: false })
  isOverflow: boolean;

  @Column({ name: "utm_source", type: "text", nullable: true })
  utmSource: string | null;

  @Column({ name: "utm_medium", type: "text", nullable: true })
  utmMedium: string | null;

  @Column({ name: "utm_campaign", type: "text", nullable: true })
  utmCampaign: string | null;

  @Column({ name: "utm_term", type: "text", nullable: true })
  utmTerm: string | null;

  @Column({ name: "utm_content", type: "text", nullable: true })
  utmContent: string | null;

  @Column({ name: "click_id_type", type: "text", nullable: true })
  clickIdType: string | null;

  @Column({ name: "click_id", type: "text", nullable: true })
  clickId: string | null;

  @Column({ name: "referrer", type: "text", nullable: true })
  referrer: string | null;

  @Column({ name: "landing_page", type: "text", nullable: true })
  landingPage: string | null;

  @Column({ name: "first_touch", type: "jsonb", nullable: true })
  firstTouch: Record<string, unknown> | null;

  @Column({ name: "lease_expires_at", type: "timestamptz" })
  leaseExpiresAt: Date;

  @Column({ name: "last_seen_at", type: "timestamptz", default: () => "now()" })
  lastSeenAt: Date;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;
}
