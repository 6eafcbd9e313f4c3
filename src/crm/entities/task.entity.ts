import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";

export const TASK_TYPES = ["call_back", "follow_up", "todo"] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export const TASK_STATUSES = ["open", "done", "canceled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

// At most one open call_back per contact (tasks_open_call_back_key): a further missed call bumps
// attempts and appends to missed_call_ids instead of opening another task.
@Entity({ name: "tasks" })
export class Task {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "type", type: "text" })
  type: TaskType;

  @Column({ name: "status", type: "text", default: "open" })
  status: TaskStatus;

  @Column({ name: "title", type: "text" })
  title: string;

  @Column({ name: "contact_id", type: "uuid", nullable: true })
  contactId: string | null;

  /** References calls (telephony component). */
  @Column({ name: "call_id", type: "uuid", nullable: true })
  callId: string | null;

  @Column({ name: "deal_id", type: "uuid", nullable: true })
  dealId: string | null;

  @Column({ name: "assignee_id", type: "uuid", nullable: true })
  assigneeId: string | null;

  @Column({ name: "due_at", type: "timestamptz" })
  dueAt: Date;

  @Column({ name: "attempts", type: "integer", default: 1 })
  attempts: number;

  /** Calls placed to work this task (click-to-call), answered or not. */
  @Column({ name: "call_attempts", type: "integer", default: 0 })
  callAttempts: number;

  @Column({ name: "last_call_attempt_at", type: "timestamptz", nullable: true })
  lastCallAttemptAt: Date | null;

  @Column({ name: "missed_call_ids", type: "uuid", array: true, default: () => "'{}'" })
  missedCallIds: string[];

  @Column({ name: "resolution", type: "text", nullable: true })
  resolution: string | null;

  @Column({ name: "completed_at", type: "timestamptz", nullable: true })
  completedAt: Date | null;

  @Column({ name: "completed_by", type: "uuid", nullable: true })
  completedBy: string | null;

  /** The answered call that closed this call-back task by itself (references calls). */
  @Column({ name: "closed_by_call_id", type: "uuid", nullable: true })
  closedByCallId: string | null;

  @Column({ name: "time_to_callback_sec", type: "integer", nullable: true })
  timeToCallbackSec: number | null;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;

  @UpdateDateColumn({ name: "updated_at", type: "timestamptz" })
  updatedAt: Date;
}
