import type { DataSource } from "typeorm";
import { isUniqueViolation } from "../../platform/db/sql";
import { z } from "zod";
import { AppError } from "../../platform/errors";
import { cursorAt, KeysetQuery, pageFields, toPage } from "../../platform/db/keyset";
import { addToOutbox } from "../../platform/outbox";
import type { Actor, AuditService } from "../audit/audit.service";
import type { Principal } from "../auth/principal";
import { isUuid } from "../../platform/uuid";

export const listTasksQuery = z
  .object({
    status: z.enum(["open", "done", "canceled"]).optional(),
    assignee: z.union([z.literal("me"), z.literal("any"), z.literal("none"), z.uuid()]).default("me"),
    type: z.enum(["call_back", "follow_up", "todo"]).optional(),
    contactId: z.uuid().optional(),
    overdue: z.enum(["true", "false"]).optional(),
    ...pageFields(),
  })
  .strict();

export const patchTaskBody = z
  .object({
    status: z.enum(["open", "done", "canceled"]).optional(),
    assigneeId: z.uuid().nullable().optional(),
    dueAt: z.iso.datetime({ offset: true }).optional(),
    resolution: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, "nothing to change");

const COLUMNS = `t.id, t.type, t.status, t.title, t.contact_id, t.call_id, t.deal_id, t.assignee_id, t.due_at, t.attempts, t.call_attempts,
  t.missed_call_ids, t.resolution, t.completed_at, t.time_to_callback_sec, t.created_at, ${cursorAt("t.due_at")} AS cursor_at`;

/** The list also says whom to call back and on which number (the contact's first phone). */
const LIST_COLUMNS = `${COLUMNS}, ct.name AS contact_name,
  (SELECT p.e164 FROM contact_phones p WHERE p.contact_id = t.contact_id ORDER BY p.created_at LIMIT 1) AS contact_phone`;

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function toTask(r: Record<string, unknown>) {
  return {
    id: r.id,
    type: r.type,
    status: r.status,
    title: r.title,
    contactId: r.contact_id,
    contactName: r.contact_name,
    contactPhone: r.contact_phone,
    callId: r.call_id,
    dealId: r.deal_id,
    assigneeId: r.assignee_id,
    dueAt: iso(r.due_at as Date),
    overdue: r.status === "open" && new Date(r.due_at as Date) < new Date(),
    attempts: r.attempts,
    callAttempts: r.call_attempts,
    missedCallIds: r.missed_call_ids,
    resolution: r.resolution,
    completedAt: iso(r.completed_at as Date | null),
    timeToCallbackSec: r.time_to_callback_sec,
  };
}

const isManager = (p: Principal) => p.role === "supervisor" || p.role === "admin";

/**
 * Tasks as people work them: agents see and change only their own; supervisors see all and
 * reassign. Every change is audited; a new assignee is told over the socket (outbox).
 */
export class TasksService {
  constructor(private readonly ds: DataSource, private readonly audit: AuditService) {}

  async list(p: Principal, input: unknown) {
    const f = listTasksQuery.parse(input);
    const assignee = f.assignee === "me" ? p.id : f.assignee;
    if (!isManager(p) && assignee !== p.id) throw new AppError("forbidden", "Agents see their own tasks (assignee=me)");
    const q = new KeysetQuery();
    if (assignee === "none") q.where("t.assignee_id IS NULL");
    else if (assignee !== "any") q.where("t.assignee_id = ?", assignee);
    if (f.status) q.where("t.status = ?", f.status);
    if (f.type) q.where("t.type = ?", f.type);
    if (f.contactId) q.where("t.contact_id = ?", f.contactId);
    if (f.overdue === "true") q.where("t.status = 'open' AND t.due_at < now()");
    q.after(f.cursor, "t.due_at", "t.id", ">");
    const rows = await this.ds.query(`SELECT ${LIST_COLUMNS} FROM tasks t LEFT JOIN contacts ct ON ct.id = t.contact_id WHERE ${q.whereSql} ORDER BY t.due_at, t.id LIMIT ${q.limitSql(f.limit)}`, q.params);
    return toPage(rows, f.limit, toTask);
  }

  async update(p: Principal, actor: Actor, id: string, input: unknown, requestId?: string) {
    if (!isUuid(id)) throw new AppError("not_found", "No such task");
    const body = patchTaskBody.parse(input);
    return this.ds.transaction(async (em) => {
      const [before] = await em.query(`SELECT ${COLUMNS} FROM tasks t WHERE t.id = $1 FOR UPDATE`, [id]);
      if (!before) throw new AppError("not_found", "No such task");
      if (!isManager(p) && before.assignee_id !== p.id) throw new AppError("forbidden", "This task is assigned to someone else");
      if (!isManager(p) && body.assigneeId !== undefined) throw new AppError("forbidden", "Only supervisors reassign tasks");
      const status = body.status ?? before.status;
      const closing = status !== "open" && before.status === "open";
      try {
        await em.query(
          `UPDATE tasks SET status = $2, assignee_id = $3, due_at = $4, resolution = $5, updated_at = now(),
             completed_at = CASE WHEN $6 THEN now() WHEN $2 = 'open' THEN NULL ELSE completed_at END,
             completed_by = CASE WHEN $6 THEN $7::uuid WHEN $2 = 'open' THEN NULL ELSE completed_by END
           WHERE id = $1`,
          [
            id,
            status,
            body.assigneeId === undefined ? before.assignee_id : body.assigneeId,
            body.dueAt ?? before.due_at,
            body.resolution ?? (closing ? (status === "done" ? "done" : "canceled") : before.resolution),
            closing,
            p.kind === "user" ? p.id : null,
          ],
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError("conflict", "This contact already has an open call-back task");
        throw err;
      }
      const [after] = await em.query(`SELECT ${COLUMNS} FROM tasks t WHERE t.id = $1`, [id]);
      await this.audit.record(em, { actor, action: "update", entity: "task", entityId: id, before: toTask(before), after: toTask(after), requestId });
      if (after.assignee_id && after.assignee_id !== before.assignee_id && after.status === "open") {
        await addToOutbox(em, "task.assigned", { taskId: id, assigneeId: after.assignee_id }, `task-assigned:${id}:${after.assignee_id}:${Date.now()}`);
      }
      return toTask(after);
    });
  }
}
