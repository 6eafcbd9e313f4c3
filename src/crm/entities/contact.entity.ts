import { Column, CreateDateColumn, DeleteDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";

// Soft-deleted via deleted_at: a hard delete cascades to phones, deals, tasks and notes.
// merged_into_id points a merged-away contact at the one that survived the merge.
@Entity({ name: "contacts" })
export class Contact {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "name", type: "text" })
  name: string;

  @Column({ name: "email", type: "text", nullable: true })
  email: string | null;

  @Column({ name: "company", type: "text", nullable: true })
  company: string | null;

  @Column({ name: "owner_id", type: "uuid", nullable: true })
  ownerId: string | null;

  /** References call_attributions (tracking component). */
  @Column({ name: "first_touch_attribution_id", type: "uuid", nullable: true })
  firstTouchAttributionId: string | null;

  /** References call_attributions (tracking component). */
  @Column({ name: "last_touch_attribution_id", type: "uuid", nullable: true })
  lastTouchAttributionId: string | null;

  @Column({ name: "merged_into_id", type: "uuid", nullable: true })
  mergedIntoId: string | null;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @UpdateDateColumn({ name: "updated_at", type: "timestamptz" })
  updatedAt: Date;

  @DeleteDateColumn({ name: "deleted_at", type: "timestamptz", nullable: true })
  deletedAt: Date | null;
}
