import type { EntityManager } from "typeorm";
import { prepared } from "../../platform/db/prepared";
import { returningRows, takeAdvisoryLocks } from "../../platform/db/sql";
import type { AuditService } from "../audit/audit.service";

const INGEST_ACTOR = { type: "system", id: "ingest" } as const;

const LEAST_LOADED_AVAILABLE_AGENT = `SELECT u.id FROM users u LEFT JOIN tasks t ON t.assignee_id = u.id AND t.status = 'open'
  WHERE u.role = 'agent' AND u.is_active AND u.presence = 'available'
  GROUP BY u.id ORDER BY count(t.id), u.created_at LIMIT 1`;

export interface MissedCall {
  contactId: string;
  /**
   * The contact was created by this transaction: no other transaction can see it, so none can
   * decide its call-back meanwhile, and the lock is skipped (a new caller's missed call is the
   * commonest miss; the lock was a round trip more for each).
   */
  contactIsNew?: boolean;
  /** The task's title names the contact, or this (the caller's number) if the contact is gone. */
  callerNumber: string;
  callId: string;
  callStartedAt: Date;
  slaMinutes: number;
}

export interface TaskChange {
  taskId: string;
  assigneeId: string | null;
  created: boolean;
}

/**
 * One statement: skipped when a later call with the contact was already answered (events can
 * arrive late); titled with the contact's name and assigned to their owner, else the
 * least-loaded available agent (the contact is read here, not in a round trip of its own); a
 * further miss bumps the open task instead.
 */
const RECORD_MISSED_CALL = prepared(
  "tasks.record_missed_call",
  `INSERT INTO tasks (type, status, title, contact_id, call_id, assignee_id, due_at, attempts, missed_call_ids)
   SELECT 'call_back', 'open', left('Call back ' || COALESCE(c.name, $1), 200), $2, $3,
          COALESCE(c.owner_id, (${LEAST_LOADED_AVAILABLE_AGENT})), $4, 1, ARRAY[$3]::uuid[]
   FROM (SELECT 1) AS one LEFT JOIN contacts c ON c.id = $2
   WHERE NOT EXISTS (SELECT 1 FROM calls WHERE contact_id = $2 AND outcome = 'answered' AND started_at > $5)
   ON CONFLICT (contact_id) WHERE type = 'call_back' AND status = 'open'
   DO UPDATE SET attempts = tasks.attempts + 1,
                 missed_call_ids = array_append(tasks.missed_call_ids, $3::uuid),
                 updated_at = now()
     WHERE NOT ($3::uuid = ANY (tasks.missed_call_ids))
   RETURNING id, assignee_id, attempts, (xmax = 0) AS created`,
);

/**
 * "Call back" tasks: at most one open per contact (a unique partial index), bumped by further
 * misses, closed by itself when a later call with the contact is answered.
 */
/** Every answered call with a contact runs this; the open call-back is found by its unique index. */
const CLOSE_ON_ANSWERED_CALL = prepared(
  "tasks.close_on_answered_call",
  `UPDATE tasks t SET status = 'done', resolution = 'reached', completed_at = $3, completed_by = $4, closed_by_call_id = $5,
          time_to_callback_sec = GREATEST(0, EXTRACT(EPOCH FROM ($3::timestamptz - first_miss.started_at)))::int,
          updated_at = now()
   FROM (SELECT t2.id, min(c.started_at) AS started_at FROM tasks t2 JOIN calls c ON c.id = ANY (t2.missed_call_ids)
         WHERE t2.contact_id = $1 AND t2.type = 'call_back' AND t2.status = 'open' GROUP BY t2.id) first_miss
   WHERE t.id = first_miss.id AND first_miss.started_at < $2
   RETURNING t.id, t.time_to_callback_sec`,
);

/** Runs for most answered calls (their agent is known after the answer) and almost always finds nothing: prepared. */
const CREDIT_CALL_BACK = prepared(
  "tasks.credit_call_back",
  `UPDATE tasks SET completed_by = $2, updated_at = now() WHERE closed_by_call_id = $1 AND completed_by IS NULL`,
);

/**
 * A contact's call-back is decided by one transaction at a time. A miss and a later answer of
 * the same contact are different calls, so their transactions can overlap: each statement
 * would check for the other's row before it committed, and the task stayed open after the
 * answer. Taken in a statement of its own, so that the statement after it sees what the
 * transaction it waited for committed.
 */
const lockCallBack = (em: EntityManager, contactId: string) => takeAdvisoryLocks(em, [`call-back:${contactId}`]);

export class CallBackTasksService {
  constructor(private readonly audit: AuditService) {}

  /** Idempotent: a call already listed on the open task changes nothing. */
  async recordMissedCall(em: EntityManager, m: MissedCall): Promise<TaskChange | undefined> {
    if (!m.contactIsNew) await lockCallBack(em, m.contactId);
    const dueAt = new Date(m.callStartedAt.getTime() + m.slaMinutes * 60_000);
    const rows = await em.query(RECORD_MISSED_CALL, [m.callerNumber, m.contactId, m.callId, dueAt, m.callStartedAt]);
    const row = rows[0];
    if (!row) return undefined;
    await this.audit.record(em, {
      actor: INGEST_ACTOR,
      action: row.created ? "create" : "update",
      entity: "task",
      entityId: row.id,
      after: { type: "call_back", status: "open", contactId: m.contactId, assigneeId: row.assignee_id, attempts: row.attempts, lastMissedCallId: m.callId },
    });
    return { taskId: row.id, assigneeId: row.assignee_id, created: row.created };
  }

  /** A call with the contact was answered: open call-backs for earlier misses are done. */
  async closeOnAnsweredCall(
    em: EntityManager,
    a: { contactId: string; contactIsNew?: boolean; callId: string; callStartedAt: Date; answeredAt: Date; byUserId: string | null },
  ): Promise<string[]> {
    if (!a.contactIsNew) await lockCallBack(em, a.contactId);
    const rows = await returningRows<{ id: string; time_to_callback_sec: number }>(
      em,
      CLOSE_ON_ANSWERED_CALL,
      [a.contactId, a.callStartedAt, a.answeredAt, a.byUserId, a.callId],
    );
    for (const r of rows) {
      await this.audit.record(em, {
        actor: INGEST_ACTOR,
        action: "update",
        entity: "task",
        entityId: r.id,
        before: { status: "open" },
        after: { status: "done", resolution: "reached", timeToCallbackSec: r.time_to_callback_sec },
      });
    }
    return rows.map((r) => r.id);
  }

  /** Who answered became known after the answer closed the task: the call-back is theirs. */
  async creditCallBack(em: EntityManager, callId: string, userId: string): Promise<void> {
    await em.query(CREDIT_CALL_BACK, [callId, userId]);
  }

  /**
   * A call counted as missed turned out answered (its answer arrived after its hang-up): take
   * it off the open task. A task left with no missed call never should have existed, so it is
   * deleted (and audited), which leaves the same records as if the events had come in order.
   */
  async withdrawMissedCall(em: EntityManager, callId: string): Promise<void> {
    const rows = await returningRows<{ id: string; remaining: number }>(
      em,
      `UPDATE tasks SET missed_call_ids = array_remove(missed_call_ids, $1::uuid), attempts = GREATEST(1, attempts - 1),
              call_id = CASE WHEN call_id = $1::uuid THEN (array_remove(missed_call_ids, $1::uuid))[1] ELSE call_id END,
              updated_at = now()
       WHERE status = 'open' AND type = 'call_back' AND $1::uuid = ANY (missed_call_ids)
       RETURNING id, cardinality(missed_call_ids) AS remaining`,
      [callId],
    );
    for (const r of rows) {
      if (r.remaining === 0) await em.query(`DELETE FROM tasks WHERE id = $1`, [r.id]);
      await this.audit.record(em, {
        actor: INGEST_ACTOR,
        action: r.remaining === 0 ? "delete" : "update",
        entity: "task",
        entityId: r.id,
        after: r.remaining === 0 ? null : { withdrawnCallId: callId },
        before: r.remaining === 0 ? { withdrawnCallId: callId, reason: "the call was answered" } : undefined,
      });
    }
  }
}
