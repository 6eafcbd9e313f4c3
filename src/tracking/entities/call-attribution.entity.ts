import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";

export const ATTRIBUTION_METHODS = ["static", "session", "provider"] as const;
export type AttributionMethod = (typeof ATTRIBUTION_METHODS)[number];

// Marketing source of a call. Values are copied, not referenced, so reports survive pool and
// number changes. At most one is_primary row per call (call_attributions_primary_key).
@Entity({ name: "call_attributions" })
export class CallAttribution {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  /** References calls (telephony component). */
  @Column({ name: "call_id", type: "uuid" })
  callId: string;

  @Column({ name: "is_primary", type: "boolean", default: true })
  isPrimary: boolean;

  @Column({ name: "method", type: "text" })
  method: AttributionMethod;

  /** numeric(4,3) in 0..1 (CHECK); pg returns it as a string. */
  @Column({ name: "confidence", type: "numeric", precision: 4, scale: 3 })
  confidence: string;

  @Column({ name: "source", type: "text", nullable: true })
  source: string | null;

  @Column({ name: "medium", type: "text", nullable: true })
  medium: string | null;

  @Column({ name: "campaign", type: "text", nullable: true })
  campaign: string | null;

  @Column({ name: "keyword", type: "text", nullable: true })
  keyword: string | null;

  @Column({ name: "click_id", type: "text", nullable: true })
  clickId: string | null;

  @Column({ name: "click_id_type", type: "text", nullable: true })
  clickIdType: string | null;

  @Column({ name: "landing_page", type: "text", nullable: true })
  landingPage: string | null;

  @Column({ name: "referrer", type: "text", nullable: true })
  referrer: string | null;

  @Column({ name: "tracking_number", type: "text", nullable: true })
  trackingNumber: string | null;

  @Column({ name: "session_id", type: "uuid", nullable: true })
  sessionId: string | null;

  @Column({ name: "provider", type: "text", nullable: true })
  provider: string | null;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;
}
