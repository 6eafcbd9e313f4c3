import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";

export const STAGE_KINDS = ["open", "won", "lost"] as const;
export type StageKind = (typeof STAGE_KINDS)[number];

@Entity({ name: "pipeline_stages" })
export class PipelineStage {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "pipeline_id", type: "uuid" })
  pipelineId: string;

  @Column({ name: "name", type: "text" })
  name: string;

  @Column({ name: "position", type: "integer" })
  position: number;

  @Column({ name: "kind", type: "text", default: "open" })
  kind: StageKind;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;
}
