import type { DataSource, EntityManager } from "typeorm";
import type { AuditService } from "../../crm";
import { returningRows } from "../../platform/db/sql";
import { AppError } from "../../platform/errors";
import type { Logger } from "../../platform/logger";
import type { TwilioCalls } from "../outbound/twilio-calls";
import { isUuid } from "../../platform/uuid";

/** How long a connecting stream may wait for the session that asked for it to commit. */
const WANTED_PATIENCE_MS = 5000;

/** Where Twilio sends a listened call's audio: a WebSocket endpoint of this service. */
export const MEDIA_STREAM_PATH = "/media-streams";

/** PUBLIC_URL as Twilio's stream URLs spell it: ws(s):// on the same host. */
export const webSocketBase = (publicUrl: string) => publicUrl.replace(/^http/, "ws");

export interface ListenHooks {
  started(): void;
  refused(): void;
  ended(durationSec: number): void;
}

/** A signed-in user asking to listen (sockets know the user's id and role). */
export interface Listener {
  id: string;
  role: string;
}

interface EndedSession {
  id: string;
  call_id: string;
  user_id: string;
  provider_call_id: string;
  stream_sid: string;
  duration_sec: number;
}

/**
 * Supervisors listening in on live calls. The first listener of a call starts a unidirectional
 * Media Stream of both tracks (Twilio's REST API) to our WebSocket endpoint; later listeners
 * share it; the last one leaving stops it, and the call ending ends every session. Sessions are
 * rows, so any process can start, join or stop one (the stream may land on another process).
 */
export class LiveListening {
  constructor(
    private readonly deps: {
      ds: DataSource;
      twilio: TwilioCalls;
      audit: AuditService;
      publicUrl: string;
      log: Logger;
      hooks: ListenHooks;
    },
  ) {}

  /** `granted`: runs once the listener is allowed, before a stream is asked for (see ListenControl). */
  async start(who: Listener, callId: string, granted: () => Promise<void>): Promise<{ sessionId: string; callId: string }> {
    try {
      const session = await this.open(who, callId, granted);
      this.deps.hooks.started();
      return session;
    } catch (err) {
      this.deps.hooks.refused();
      throw err;
    }
  }

  private async open(who: Listener, callId: string, granted: () => Promise<void>): Promise<{ sessionId: string; callId: string }> {
    if (who.role !== "supervisor" && who.role !== "admin") throw new AppError("forbidden", "Only supervisors listen in on calls");
    if (!isUuid(callId)) throw new AppError("not_found", "No such call");
    return this.deps.ds.transaction(async (em) => {
      // One listener at a time per call decides whether a stream must be started.
      await em.query(`SELECT pg_advisory_xact_lock(hashtext('listen:' || $1))`, [callId]);
      const [call] = await em.query(`SELECT id, provider, provider_call_id, status FROM calls WHERE id = $1`, [callId]);
      if (!call) throw new AppError("not_found", "No such call");
      if (call.status !== "in-progress") throw new AppError("conflict", "This call is not in progress: only live calls can be listened to");
      if (call.provider !== "twilio") throw new AppError("unprocessable", "Only Twilio calls can be listened to");
      // The socket's role was read at its handshake: a demoted or deactivated user is refused now.
      const [user] = await em.query(`SELECT role FROM users WHERE id = $1 AND is_active`, [who.id]);
      if (user?.role !== "supervisor" && user?.role !== "admin") throw new AppError("forbidden", "Only supervisors listen in on calls");
      await granted();
      const [mine] = await em.query(`SELECT id FROM listen_sessions WHERE call_id = $1 AND user_id = $2 AND ended_at IS NULL`, [callId, who.id]);
      if (mine) return { sessionId: mine.id as string, callId };
      const [shared] = await em.query(`SELECT provider_call_id, stream_sid FROM listen_sessions WHERE call_id = $1 AND ended_at IS NULL LIMIT 1`, [callId]);
      const twilioCallSid = shared?.provider_call_id ?? (await this.twilioCallOf(em, call));
      const streamSid = shared?.stream_sid ?? (await this.deps.twilio.startStream(twilioCallSid, this.streamUrl(callId), `listen-${callId}`)).sid;
      const [row] = await em.query(
        `INSERT INTO listen_sessions (call_id, user_id, provider_call_id, stream_sid) VALUES ($1, $2, $3, $4) RETURNING id`,
        [callId, who.id, twilioCallSid, streamSid],
      );
      await this.deps.audit.record(em, { actor: { type: "user", id: who.id }, action: "listen", entity: "call", entityId: callId, after: { session: row.id, started: true } });
      return { sessionId: row.id as string, callId };
    });
  }

  /** The call Twilio knows: ours is its parent call, except click-to-call's, where Twilio's parent is the agent's leg. */
  private async twilioCallOf(em: EntityManager, call: { id: string; provider_call_id: string }): Promise<string> {
    if (!call.provider_call_id.startsWith("c2c:")) return call.provider_call_id;
    const [leg] = await em.query(`SELECT provider_leg_id FROM call_legs WHERE call_id = $1 AND user_id IS NOT NULL ORDER BY created_at LIMIT 1`, [call.id]);
    if (!leg) throw new AppError("conflict", "This call has not reached Twilio yet");
    return leg.provider_leg_id;
  }

  /** wss:// (Twilio requires it) on PUBLIC_URL's host; our call id rides in the signed URL. */
  streamUrl(callId: string): string {
    return `${webSocketBase(this.deps.publicUrl)}${MEDIA_STREAM_PATH}?call=${callId}`;
  }

  /**
   * The listener leaves (asked to, or their last socket went). The last one out stops the stream;
   * under the call's lock, so a listener joining meanwhile either shares the stream before it is
   * judged unused, or starts a new one after.
   */
  async stop(userId: string, callId: string, reason: string): Promise<void> {
    if (!isUuid(callId)) return;
    const { ended, others } = await this.deps.ds.transaction(async (em) => {
      await em.query(`SELECT pg_advisory_xact_lock(hashtext('listen:' || $1))`, [callId]);
      const ended = await this.endIn(em, `call_id = $1 AND user_id = $2`, [callId, userId], reason);
      const streamSid = ended[0]?.stream_sid;
      const [others] = streamSid ? await em.query(`SELECT 1 FROM listen_sessions WHERE stream_sid = $1 AND ended_at IS NULL`, [streamSid]) : [];
      return { ended, others: Boolean(others) };
    });
    this.observeEnded(ended);
    const last = ended[0];
    if (!last || others) return;
    await this.deps.twilio.stopStream(last.provider_call_id, last.stream_sid).catch((err: Error) => {
      // Already over (the call ended meanwhile): nothing left to stop.
      this.deps.log.warn({ err: err.message, callId }, "stopping a media stream failed");
    });
  }

  /**
   * Whether a stream that connected is one we started for this call and still want. Twilio may
   * connect before the session that asked for the stream has committed (the REST answer and our
   * insert are still on their way): a stream not known yet is asked about again for a while.
   * A failed lookup is asked again too: Twilio does not reconnect a stream we close, so closing
   * on one database hiccup would leave the supervisor hearing nothing for the rest of the call.
   * Throws only when the lookup still fails at the end of the patience.
   */
  async wanted(callId: string, streamSid: string, patienceMs = WANTED_PATIENCE_MS): Promise<boolean> {
    if (!isUuid(callId)) return false;
    const deadline = Date.now() + patienceMs;
    for (;;) {
      try {
        const [row] = await this.deps.ds.query(`SELECT ended_at IS NULL AS live FROM listen_sessions WHERE call_id = $1 AND stream_sid = $2 LIMIT 1`, [
          callId,
          streamSid,
        ]);
        if (row) return Boolean(row.live);
        if (Date.now() >= deadline) return false;
      } catch (err) {
        if (Date.now() >= deadline) throw err;
        this.deps.log.warn({ err: (err as Error).message, callId }, "looking up a connecting media stream failed; asking again");
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The stream stopped (the call ended, or it was stopped): every session on it ends. Returns who was listening. */
  async streamEnded(streamSid: string, reason: string): Promise<string[]> {
    const ended = await this.deps.ds.transaction((em) => this.endIn(em, `stream_sid = $1`, [streamSid], reason));
    this.observeEnded(ended);
    return ended.map((s) => s.user_id);
  }

  /**
   * Sessions of calls that are over (the sweeper asks): when Twilio's stream never reached us
   * (a wrong PUBLIC_URL, a proxy without WebSocket upgrades), nothing else would end them.
   * Returns the calls whose sessions ended, so their listeners can be told.
   */
  async endFinishedCalls(): Promise<string[]> {
    const ended = await this.deps.ds.transaction((em) =>
      this.endIn(em, `EXISTS (SELECT 1 FROM calls c WHERE c.id = listen_sessions.call_id AND c.status = 'completed')`, [], "call ended"),
    );
    this.observeEnded(ended);
    return [...new Set(ended.map((s) => s.call_id))];
  }

  private observeEnded(ended: EndedSession[]): void {
    for (const s of ended) this.deps.hooks.ended(s.duration_sec);
  }

  private async endIn(em: EntityManager, where: string, params: unknown[], reason: string): Promise<EndedSession[]> {
    const ended = await returningRows<EndedSession>(
      em,
      `UPDATE listen_sessions SET ended_at = now(), end_reason = $${params.length + 1}
       WHERE ${where} AND ended_at IS NULL
       RETURNING id, call_id, user_id, provider_call_id, stream_sid, extract(epoch FROM ended_at - started_at)::float AS duration_sec`,
      [...params, reason],
    );
    for (const s of ended) {
      await this.deps.audit.record(em, {
        actor: { type: "user", id: s.user_id },
        action: "listen",
        entity: "call",
        entityId: s.call_id,
        after: { session: s.id, ended: reason, durationSec: Math.round(s.duration_sec) },
      });
    }
    return ended;
  }
}
