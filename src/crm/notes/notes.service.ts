import type { DataSource } from "typeorm";
import { z } from "zod";
import { AppError } from "../../platform/errors";
import type { Actor, AuditService } from "../audit/audit.service";
import type { Principal } from "../auth/principal";

export const noteBody = z.object({ body: z.string().trim().min(1).max(5000) }).strict();

export const DISPOSITIONS = ["interested", "not-interested", "callback-requested", "sale", "wrong-number", "voicemail", "other"] as const;
export const dispositionBody = z.object({ disposition: z.enum(DISPOSITIONS) }).strict();

const uuid = z.uuid();

/** Notes on contacts and calls, and the disposition an agent gives a call after it. */
export class NotesService {
  constructor(private readonly ds: DataSource, private readonly audit: AuditService) {}

  async add(p: Principal, actor: Actor, on: { contactId?: string; callId?: string }, input: unknown, requestId?: string) {
    const { body } = noteBody.parse(input);
    const target = on.contactId ?? on.callId ?? "";
    if (!uuid.safeParse(target).success) throw new AppError("not_found", "No such record");
    return this.ds.transaction(async (em) => {
      const [exists] = on.contactId
        ? await em.query(`SELECT id AS contact_id FROM contacts WHERE id = $1 AND deleted_at IS NULL`, [target])
        : await em.query(`SELECT contact_id FROM calls WHERE id = $1`, [target]);
      if (!exists) throw new AppError("not_found", "No such record");
      const [note] = await em.query(
        `INSERT INTO notes (contact_id, call_id, author_id, body) VALUES ($1, $2, $3, $4) RETURNING id, created_at`,
        [exists.contact_id, on.callId ?? null, p.kind === "user" ? p.id : null, body],
      );
      const view = { id: note.id, contactId: exists.contact_id, callId: on.callId ?? null, authorId: p.kind === "user" ? p.id : null, body, createdAt: new Date(note.created_at).toISOString() };
      await this.audit.record(em, { actor, action: "create", entity: "note", entityId: note.id, after: view, requestId });
      return view;
    });
  }

  /** The agent who handled the call, or a supervisor, records how it went. */
  async setDisposition(p: Principal, actor: Actor, callId: string, input: unknown, requestId?: string) {
    const { disposition } = dispositionBody.parse(input);
    if (!uuid.safeParse(callId).success) throw new AppError("not_found", "No such call");
    return this.ds.transaction(async (em) => {
      const [call] = await em.query(`SELECT id, answered_by, disposition FROM calls WHERE id = $1 FOR UPDATE`, [callId]);
      if (!call) throw new AppError("not_found", "No such call");
      if (p.role === "agent" && call.answered_by !== p.id) throw new AppError("forbidden", "Only the agent who handled the call, or a supervisor, sets its disposition");
      await em.query(`UPDATE calls SET disposition = $2, updated_at = now() WHERE id = $1`, [callId, disposition]);
      await this.audit.record(em, { actor, action: "update", entity: "call", entityId: callId, before: { disposition: call.disposition }, after: { disposition }, requestId });
      return { callId, disposition };
    });
  }
}
