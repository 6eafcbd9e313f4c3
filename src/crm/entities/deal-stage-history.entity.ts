import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";

@Entity({ name: "deal_stage_history" })
export class DealStageHistory {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "deal_id", type: "uuid" })
  dealId: string;

  /** null for the deal's first stage. */
  @Column({ name: "from_stage_id", type: "uuid", nullable: true })
  fromStageId: string | null;

  @Column({ name: "to_stage_id", type: "uuid" })
  toStageId: string;

  @Column({ name: "changed_by", type: "uuid", nullable: true })
  changedBy: string | null;

  @Column({ name: "changed_at", type: "timestamptz", default: () => "now()" })
  changedAt: Date;
}
