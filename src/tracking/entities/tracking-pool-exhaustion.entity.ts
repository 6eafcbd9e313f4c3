import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";

// One row each time a session found no free number in its pool: the signal that a pool is too small.
@Entity({ name: "tracking_pool_exhaustions" })
export class TrackingPoolExhaustion {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "pool_id", type: "uuid" })
  poolId: string;

  @Column({ name: "session_id", type: "uuid", nullable: true })
  sessionId: string | null;

  @Column({ name: "occurred_at", type: "timestamptz", default: () => "now()" })
  occurredAt: Date;
}
