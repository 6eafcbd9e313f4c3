import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";

// At most one row has is_default = true (pipelines_one_default_key).
@Entity({ name: "pipelines" })
export class Pipeline {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "name", type: "text" })
  name: string;

  @Column({ name: "is_default", type: "boolean", default: false })
  isDefault: boolean;

  @Column({ name: "position", type: "integer", default: 0 })
  position: number;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @UpdateDateColumn({ name: "updated_at", type: "timestamptz" })
  updatedAt: Date;
}
