import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";

export const USER_ROLES = ["agent", "supervisor", "marketer", "admin"] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const PRESENCE_VALUES = ["available", "away", "busy", "offline"] as const;
export type Presence = (typeof PRESENCE_VALUES)[number];

// email is unique case-insensitively (users_email_key on lower(email)): look users up by lower(email).
@Entity({ name: "users" })
export class User {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "email", type: "text" })
  email: string;

  @Column({ name: "name", type: "text" })
  name: string;

  @Column({ name: "role", type: "text" })
  role: UserRole;

  @Column({ name: "password_hash", type: "text" })
  passwordHash: string;

  @Column({ name: "dial_target", type: "text", nullable: true })
  dialTarget: string | null;

  @Column({ name: "presence", type: "text", default: "offline" })
  presence: Presence;

  @Column({ name: "presence_changed_at", type: "timestamptz", nullable: true })
  presenceChangedAt: Date | null;

  @Column({ name: "is_active", type: "boolean", default: true })
  isActive: boolean;

  /** Failed sign-ins in a row; reset by a successful one. */
  @Column({ name: "failed_logins", type: "integer", default: 0 })
  failedLogins: number;

  /** Sign-in refused until then, after too many failures in a row. */
  @Column({ name: "locked_until", type: "timestamptz", nullable: true })
  lockedUntil: Date | null;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @UpdateDateColumn({ name: "updated_at", type: "timestamptz" })
  updatedAt: Date;
}
