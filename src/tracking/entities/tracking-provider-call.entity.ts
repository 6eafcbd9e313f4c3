import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";

// A call as a call-tracking provider reported it (latest delivery wins), kept until a call matches.
@Entity({ name: "tracking_provider_calls" })
export class TrackingProviderCall {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "provider", type: "text" })
  provider: string;

  @Column({ name: "provider_call_id", type: "text" })
  providerCallId: string;

  @Column({ name: "telephony_call_id", type: "text", nullable: true })
  telephonyCallId: string | null;

  @Column({ name: "caller", type: "text", nullable: true })
  caller: string | null;

  @Column({ name: "tracking_number", type: "text", nullable: true })
  trackingNumber: string | null;

  @Column({ name: "business_number", type: "text", nullable: true })
  businessNumber: string | null;

  @Column({ name: "started_at", type: "timestamptz" })
  startedAt: Date;

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

  @Column({ name: "first_call", type: "boolean", nullable: true })
  firstCall: boolean | null;

  /** The call it was matched to (references calls); null until one is. */
  @Column({ name: "call_id", type: "uuid", nullable: true })
  callId: string | null;

  /** When the delivery that last wrote this row was received: an older redelivery never overwrites a newer one. */
  @Column({ name: "last_delivery_at", type: "timestamptz" })
  lastDeliveryAt: Date;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @UpdateDateColumn({ name: "updated_at", type: "timestamptz" })
  updatedAt: Date;
}
