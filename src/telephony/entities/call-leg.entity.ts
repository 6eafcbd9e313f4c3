import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";

// One dialed target within a call (a ring group or transfer produces several legs).
@Entity({ name: "call_legs" })
export class CallLeg {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "call_id", type: "uuid" })
  callId: string;

  @Column({ name: "provider", type: "text" })
  provider: string;

  @Column({ name: "provider_leg_id", type: "text" })
  providerLegId: string;

  @Column({ name: "target", type: "text", nullable: true })
  target: string | null;

  /** References users (crm component). */
  @Column({ name: "user_id", type: "uuid", nullable: true })
  userId: string | null;

  /** Provider status as reported (no CHECK in the schema). */
  @Column({ name: "status", type: "text" })
  status: string;

  @Column({ name: "answered_at", type: "timestamptz", nullable: true })
  answeredAt: Date | null;

  @Column({ name: "ended_at", type: "timestamptz", nullable: true })
  endedAt: Date | null;

  @Column({ name: "duration_sec", type: "integer", nullable: true })
  durationSec: number | null;

  @Column({ name: "last_sequence", type: "integer", nullable: true })
  lastSequence: number | null;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @UpdateDateColumn({ name: "updated_at", type: "timestamptz" })
  updatedAt: Date;
}
