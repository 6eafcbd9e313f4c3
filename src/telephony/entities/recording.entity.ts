import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";

@Entity({ name: "recordings" })
export class Recording {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "call_id", type: "uuid" })
  callId: string;

  @Column({ name: "provider", type: "text" })
  provider: string;

  @Column({ name: "provider_recording_id", type: "text" })
  providerRecordingId: string;

  /** Provider status as reported (no CHECK in the schema). */
  @Column({ name: "status", type: "text" })
  status: string;

  @Column({ name: "duration_sec", type: "integer", nullable: true })
  durationSec: number | null;

  @Column({ name: "channels", type: "smallint", nullable: true })
  channels: number | null;

  @Column({ name: "source", type: "text", nullable: true })
  source: string | null;

  @Column({ name: "started_at", type: "timestamptz", nullable: true })
  startedAt: Date | null;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @UpdateDateColumn({ name: "updated_at", type: "timestamptz" })
  updatedAt: Date;
}
