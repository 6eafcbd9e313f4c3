import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";

export const CALL_DIRECTIONS = ["inbound", "outbound"] as const;
export type CallDirection = (typeof CALL_DIRECTIONS)[number];

export const CALL_STATUSES = ["ringing", "in-progress", "completed"] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

export const CALL_OUTCOMES = ["answered", "missed"] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

// One row per provider call, unique on (provider, provider_call_id) so redelivered webhooks upsert.
// from_raw/to_raw are kept as received; the *_e164 forms are null when a number cannot be parsed.
@Entity({ name: "calls" })
export class Call {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "provider", type: "text" })
  provider: string;

  @Column({ name: "provider_call_id", type: "text" })
  providerCallId: string;

  @Column({ name: "direction", type: "text" })
  direction: CallDirection;

  @Column({ name: "from_raw", type: "text" })
  fromRaw: string;

  @Column({ name: "to_raw", type: "text" })
  toRaw: string;

  @Column({ name: "from_e164", type: "text", nullable: true })
  fromE164: string | null;

  @Column({ name: "to_e164", type: "text", nullable: true })
  toE164: string | null;

  /** References contacts (crm component). */
  @Column({ name: "contact_id", type: "uuid", nullable: true })
  contactId: string | null;

  /** References deals (crm component). */
  @Column({ name: "deal_id", type: "uuid", nullable: true })
  dealId: string | null;

  @Column({ name: "status", type: "text" })
  status: CallStatus;

  @Column({ name: "outcome", type: "text", nullable: true })
  outcome: CallOutcome | null;

  @Column({ name: "missed_reason", type: "text", nullable: true })
  missedReason: string | null;

  /** users.id of the agent who answered (crm component). */
  @Column({ name: "answered_by", type: "uuid", nullable: true })
  answeredBy: string | null;

  /** Click-to-call: the user who started this outbound call. */
  @Column({ name: "initiated_by", type: "uuid", nullable: true })
  initiatedBy: string | null;

  @Column({ name: "is_first_time_caller", type: "boolean", nullable: true })
  isFirstTimeCaller: boolean | null;

  // Report columns of inbound calls, kept by the tracking component (src/tracking/reports/report-columns.ts):
  // the primary attribution's labels and, per grouping, when the same caller last called in that group.
  @Column({ name: "caller_key", type: "text", nullable: true })
  callerKey: string | null;

  @Column({ name: "attr_source", type: "text", nullable: true })
  attrSource: string | null;

  @Column({ name: "attr_medium", type: "text", nullable: true })
  attrMedium: string | null;

  @Column({ name: "attr_campaign", type: "text", nullable: true })
  attrCampaign: string | null;

  @Column({ name: "attr_keyword", type: "text", nullable: true })
  attrKeyword: string | null;

  @Column({ name: "prev_call_at", type: "timestamptz", nullable: true })
  prevCallAt: Date | null;

  @Column({ name: "prev_source_at", type: "timestamptz", nullable: true })
  prevSourceAt: Date | null;

  @Column({ name: "prev_medium_at", type: "timestamptz", nullable: true })
  prevMediumAt: Date | null;

  @Column({ name: "prev_campaign_at", type: "timestamptz", nullable: true })
  prevCampaignAt: Date | null;

  @Column({ name: "prev_keyword_at", type: "timestamptz", nullable: true })
  prevKeywordAt: Date | null;

  @Column({ name: "disposition", type: "text", nullable: true })
  disposition: string | null;

  @Column({ name: "started_at", type: "timestamptz" })
  startedAt: Date;

  @Column({ name: "answered_at", type: "timestamptz", nullable: true })
  answeredAt: Date | null;

  @Column({ name: "ended_at", type: "timestamptz", nullable: true })
  endedAt: Date | null;

  @Column({ name: "duration_sec", type: "integer", nullable: true })
  durationSec: number | null;

  /** Highest provider event sequence applied; an older one arriving late must not move state back. */
  @Column({ name: "last_sequence", type: "integer", nullable: true })
  lastSequence: number | null;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @UpdateDateColumn({ name: "updated_at", type: "timestamptz" })
  updatedAt: Date;
}
