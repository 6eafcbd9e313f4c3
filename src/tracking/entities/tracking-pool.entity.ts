import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";

// A pool of numbers handed out per website session (dynamic number insertion). When every number
// is leased, visitors see overflow_number and the exhaustion is recorded.
@Entity({ name: "tracking_pools" })
export class TrackingPool {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "name", type: "text" })
  name: string;

  @Column({ name: "overflow_number", type: "text", nullable: true })
  overflowNumber: string | null;

  /** Lease length of a pool number, in minutes; CHECK 1..1440. */
  @Column({ name: "hold_minutes", type: "integer", default: 30 })
  holdMinutes: number;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @UpdateDateColumn({ name: "updated_at", type: "timestamptz" })
  updatedAt: Date;
}
