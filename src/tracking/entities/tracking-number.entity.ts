import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";

// pool_id null = a static number whose source/medium/campaign attribute every call to it.
@Entity({ name: "tracking_numbers" })
export class TrackingNumber {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "number", type: "text" })
  number: string;

  @Column({ name: "pool_id", type: "uuid", nullable: true })
  poolId: string | null;

  @Column({ name: "source", type: "text", nullable: true })
  source: string | null;

  @Column({ name: "medium", type: "text", nullable: true })
  medium: string | null;

  @Column({ name: "campaign", type: "text", nullable: true })
  campaign: string | null;

  /** The session holding this pool number until leased_until (a lease past it is free). */
  @Column({ name: "leased_session_id", type: "uuid", nullable: true })
  leasedSessionId: string | null;

  @Column({ name: "leased_until", type: "timestamptz", nullable: true })
  leasedUntil: Date | null;

  @Column({ name: "is_active", type: "boolean", default: true })
  isActive: boolean;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @UpdateDateColumn({ name: "updated_at", type: "timestamptz" })
  updatedAt: Date;
}
