import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";

export const DEAL_STATUSES = ["open", "won", "lost"] as const;
export type DealStatus = (typeof DEAL_STATUSES)[number];

@Entity({ name: "deals" })
export class Deal {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "contact_id", type: "uuid" })
  contactId: string;

  @Column({ name: "pipeline_id", type: "uuid" })
  pipelineId: string;

  @Column({ name: "stage_id", type: "uuid" })
  stageId: string;

  @Column({ name: "title", type: "text" })
  title: string;

  /** numeric(14,2): pg returns it as a string so no precision is lost. */
  @Column({ name: "amount", type: "numeric", precision: 14, scale: 2, nullable: true })
  amount: string | null;

  @Column({ name: "currency", type: "char", length: 3, default: "USD" })
  currency: string;

  @Column({ name: "status", type: "text", default: "open" })
  status: DealStatus;

  @Column({ name: "owner_id", type: "uuid", nullable: true })
  ownerId: string | null;

  /** References calls (telephony component). */
  @Column({ name: "source_call_id", type: "uuid", nullable: true })
  sourceCallId: string | null;

  /** References call_attributions (tracking component). */
  @Column({ name: "attribution_id", type: "uuid", nullable: true })
  attributionId: string | null;

  /** The labels of that attribution, for the attribution report (kept by the tracking component). */
  @Column({ name: "attr_source", type: "text", nullable: true })
  attrSource: string | null;

  @Column({ name: "attr_medium", type: "text", nullable: true })
  attrMedium: string | null;

  @Column({ name: "attr_campaign", type: "text", nullable: true })
  attrCampaign: string | null;

  @Column({ name: "attr_keyword", type: "text", nullable: true })
  attrKeyword: string | null;

  @Column({ name: "lost_reason", type: "text", nullable: true })
  lostReason: string | null;

  @Column({ name: "closed_at", type: "timestamptz", nullable: true })
  closedAt: Date | null;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @UpdateDateColumn({ name: "updated_at", type: "timestamptz" })
  updatedAt: Date;
}
