import type { DataSource } from "typeorm";
import type { Principal } from "../../crm";
import { AppError } from "../../platform/errors";
import type { Media, RecordingMedia } from "./recording-media";
import { isUuid } from "../../platform/uuid";

/**
 * Who may play which recording: supervisors and admins any; an agent only the calls they
 * answered. The call's own conversation is preferred over a voicemail left on it.
 */
export class RecordingPlayback {
  constructor(
    private readonly ds: DataSource,
    private readonly media: RecordingMedia,
  ) {}

  async open(who: Principal, callId: string, range: string | undefined): Promise<Media> {
    const recordingSid = await this.playable(who, callId);
    return this.media.open(recordingSid, range);
  }

  /** The recording this person may play on this call, or the reason they may not. */
  async playable(who: Principal, callId: string): Promise<string> {
    if (!isUuid(callId)) throw new AppError("not_found", "No such call");
    const [row] = await this.ds.query(
      `SELECT c.answered_by, r.provider, r.provider_recording_id
       FROM calls c LEFT JOIN LATERAL (
         SELECT provider, provider_recording_id FROM recordings r WHERE r.call_id = c.id AND r.status = 'completed'
         ORDER BY (r.source = 'call') DESC, r.created_at DESC LIMIT 1) r ON true
       WHERE c.id = $1`,
      [callId],
    );
    if (!row) throw new AppError("not_found", "No such call");
    if (who.role === "agent" && row.answered_by !== who.id) throw new AppError("forbidden", "Agents play the recordings of calls they answered");
    if (!row.provider_recording_id) throw new AppError("not_found", "This call has no recording");
    if (row.provider !== "twilio") throw new AppError("not_found", "This recording is kept by the PBX and cannot be played here");
    return row.provider_recording_id as string;
  }
}
