import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";
import type { UserRole } from "./user.entity";

// Only a hash of the secret is stored; the unique `prefix` is how a presented key finds its row.
@Entity({ name: "api_keys" })
export class ApiKey {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "name", type: "text" })
  name: string;

  @Column({ name: "prefix", type: "text" })
  prefix: string;

  @Column({ name: "key_hash", type: "text" })
  keyHash: string;

  @Column({ name: "role", type: "text" })
  role: UserRole;

  @Column({ name: "created_by", type: "uuid", nullable: true })
  createdBy: string | null;

  @Column({ name: "last_used_at", type: "timestamptz", nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: "revoked_at", type: "timestamptz", nullable: true })
  revokedAt: Date | null;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;
}
