import type http from "node:http";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import Redis from "ioredis";
import { Server, type Socket } from "socket.io";
import { z } from "zod";
import type { AuthService, CallContextService, Presence, PresenceService } from "../crm";
import type { Logger } from "../platform/logger";
import { closeRedis, keepDuplicates } from "../platform/redis-close";
import type { PopStore } from "./pop-store";
import { PresenceReconciler } from "./presence-reconciler";
import { listenRoom, roleRoom, userRoom } from "./rooms";
import type { ClientToServerEvents, ClusterEvents, ListenAudioMessage, PopDelivery, ScreenPopMessage, ServerToClientEvents, SocketData } from "./realtime-events";

type IO = Server<ClientToServerEvents, ServerToClientEvents, ClusterEvents, SocketData>;
type AgentSocket = Socket<ClientToServerEvents, ServerToClientEvents, ClusterEvents, SocketData>;

const presenceSetSchema = z.object({ status: z.enum(["available", "away"]) }).strict();
const OFFLINE_GRACE_MS = 5000;
const ACK_TIMEOUT_MS = 5000;
const PRESENCE_RATE = { max: 5, perMs: 10_000 };
/** How often a process that holds connections re-asserts them in presence (PresenceReconciler). */
const REASSERT_INTERVAL_MS = 60_000;
/** listen:start asks Twilio for a stream: as rare as presence changes. */
const LISTEN_RATE = { max: 5, perMs: 10_000 };

/** A per-socket rate limit: `max` events, refilled over `perMs`. */
function tokenBucket(rate: { max: number; perMs: number }): () => boolean {
  let tokens = rate.max;
  let at = Date.now();
  return () => {
    const now = Date.now();
    tokens = Math.min(rate.max, tokens + ((now - at) / rate.perMs) * rate.max);
    at = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

/**
 * Socket.IO (4.8) keeps the timer of an acknowledgement awaited from a socket after the socket
 * is gone, until it expires: a pop sent just before a disconnect, or before the server closes,
 * held a 5 s timer, and with it a process that had finished stopping. Calling the socket's
 * pending acknowledgements clears their timers; the pop's callback ignores a socket that is gone.
 */
function settlePendingAcks(socket: AgentSocket): void {
  const acks = (socket as unknown as { acks?: Map<number, (...args: unknown[]) => void> }).acks;
  for (const [id, settle] of acks ?? []) {
    acks?.delete(id);
    settle(new Error("disconnected"));
  }
}

const listenBody = z.object({ callId: z.uuid() }).strict();

/** Live listening, as the gateway needs it (the telephony component provides it). */
export interface ListenControl {
  /**
   * `granted` runs once the listener is allowed, before the stream is asked for: the gateway
   * joins the listen room there, so that the first audio (relayed as soon as the session is
   * committed) finds the listener in it, and a refused listener never was.
   */
  start(who: { id: string; role: string }, callId: string, granted: () => Promise<void>): Promise<{ sessionId: string }>;
  stop(userId: string, callId: string, reason: string): Promise<void>;
}

export interface RealtimeDeps {
  auth: AuthService;
  listening?: ListenControl;
  presence: PresenceService;
  callContext: CallContextService;
  pops: PopStore;
  log: Logger;
  redisUrl?: string;
  queuePrefix: string;
}

/**
 * The Socket.IO server. Handshake auth with the agent's JWT, rooms per user and per role, pops
 * stored and acknowledged, presence that follows connections. With REDIS_URL the Redis Streams
 * adapter joins every process (web and worker) into one cluster, so any process reaches any agent
 * and connection state recovery works across restarts of a connection.
 */
export class Realtime {
  readonly io: IO;
  private readonly redis: Redis | undefined;
  private readonly offlineTimers = new Map<string, NodeJS.Timeout>();
  private readonly attached: boolean;
  private closing = false;
  /** The adapter's own clients (made from `redis`): closed with it, whether Redis answers or not. */
  private readonly adapterClients: Redis[];
  private readonly reassertTimer: NodeJS.Timeout | undefined;
  /** Repairs presence that connections alone cannot keep right (a process that died). */
  readonly presenceReconciler: PresenceReconciler;

  constructor(private readonly deps: RealtimeDeps, httpServer?: http.Server) {
    this.attached = Boolean(httpServer);
    // Auto-pipelining: the pushes the dispatcher emits together (one XADD each) leave in one
    // write instead of one each; ioredis keeps (p)subscribe out of pipelines by itself.
    this.redis = deps.redisUrl ? new Redis(deps.redisUrl, { maxRetriesPerRequest: null, enableAutoPipelining: true }) : undefined;
    this.redis?.on("error", (err) => deps.log.debug({ err: err.message }, "realtime redis error"));
    this.adapterClients = this.redis ? keepDuplicates(this.redis) : [];
    const adapter = this.redis
      ? createAdapter(this.redis, {
          // Stream and channels of this installation only: another one on the same Redis (its
          // own QUEUE_PREFIX) is not a node of this cluster.
          streamName: `${deps.queuePrefix}:socket.io`,
          channelPrefix: `${deps.queuePrefix}:socket.io`,
          // Sessions kept for connection state recovery too (they expire on their own).
          sessionKeyPrefix: `${deps.queuePrefix}:socket.io:session:`,
          // The reading client only stops between blocking reads: keep them short so a
          // shutdown does not linger.
          blockTimeInMs: 1000,
        })
      : undefined;
    this.io = new Server<ClientToServerEvents, ServerToClientEvents, ClusterEvents, SocketData>({
      path: "/socket.io",
      maxHttpBufferSize: 16 * 1024,
      serveClient: false,
      connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: false },
      ...(adapter ? { adapter } : {}),
    });
    if (httpServer) this.io.attach(httpServer);
    this.io.use((socket, next) => void this.authenticate(socket, next));
    this.io.on("connection", (socket) => void this.onConnection(socket));
    // Another process's pops: delivered to the connections held here.
    this.io.on("screen-pops", (calls) => this.deliverPops(calls));
    this.presenceReconciler = new PresenceReconciler(this.io, deps.presence, (userId, status) => this.announcePresence(userId, status), OFFLINE_GRACE_MS);
    if (httpServer) {
      this.reassertTimer = setInterval(() => {
        this.presenceReconciler.reassertLocal().catch((err: Error) => deps.log.warn({ err: err.message }, "re-asserting presence failed"));
      }, REASSERT_INTERVAL_MS);
      this.reassertTimer.unref();
    }
  }

  /** Supervisors' boards and the user's own tabs learn of a presence change. */
  private announcePresence(userId: string, status: Presence): void {
    this.io.to([roleRoom("supervisor"), roleRoom("admin"), userRoom(userId)]).emit("presence:changed", { userId, status });
  }

  private async authenticate(socket: AgentSocket, next: (err?: Error) => void): Promise<void> {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    const result = typeof token === "string" && token.length < 4096 ? await this.deps.auth.authenticateToken(token).catch(() => undefined) : undefined;
    if (!result || result.principal.kind !== "user") return next(new Error("unauthorized"));
    socket.data.userId = result.principal.id;
    socket.data.role = result.principal.role;
    socket.data.expiresAt = result.expiresAt.getTime();
    next();
  }

  private async onConnection(socket: AgentSocket): Promise<void> {
    const { userId, role } = socket.data;
    // The handshake is checked once: end the connection when the token expires. Started here,
    // not in the middleware: a client gone during the token check never connects, and never
    // disconnects either, so its timer would have lived (with the socket) until the expiry.
    const timer = setTimeout(() => socket.disconnect(true), Math.max(0, Math.min(socket.data.expiresAt - Date.now(), 2 ** 31 - 1)));
    timer.unref();
    socket.once("disconnect", () => {
      clearTimeout(timer);
      settlePendingAcks(socket);
    });
    // A recovered connection is put back in its rooms, a listen room too; but its listening
    // ended with the disconnect: only listen:start may put it back.
    if (socket.recovered) for (const room of socket.rooms) if (room.startsWith("listen:")) void socket.leave(room);
    // Handlers first, synchronously: an event sent right after connecting must find them.
    this.registerHandlers(socket);
    clearTimeout(this.offlineTimers.get(userId));
    this.offlineTimers.delete(userId);
    try {
      await socket.join([userRoom(userId), roleRoom(role)]);
      const status = await this.deps.presence.connected(userId);
      this.announcePresence(userId, status);
      if (role === "supervisor" || role === "admin") {
        socket.emit("board:snapshot", { agents: await this.deps.presence.board(), calls: await this.deps.callContext.liveCalls() });
      }
      for (const pop of await this.deps.pops.replayable(userId)) this.sendPop(userId, { popId: pop.id, ...pop.payload }, socket);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, "socket setup failed");
    }
  }

  private registerHandlers(socket: AgentSocket): void {
    const { userId } = socket.data;
    const allowed = tokenBucket(PRESENCE_RATE);
    socket.on("presence:set", async (body, ack) => {
      const reply = typeof ack === "function" ? ack : () => undefined;
      if (!allowed()) return reply({ ok: false, error: "rate_limited" });
      const parsed = presenceSetSchema.safeParse(body);
      if (!parsed.success) return reply({ ok: false, error: "validation_failed" });
      try {
        await this.deps.presence.set(userId, parsed.data.status);
        this.announcePresence(userId, parsed.data.status);
        reply({ ok: true, status: parsed.data.status });
      } catch {
        reply({ ok: false, error: "unavailable" });
      }
    });
    this.registerListening(socket);
    socket.on("disconnect", () => {
      // Sockets dropped by our own shutdown are not agents going away.
      if (this.closing) return;
      const timer = setTimeout(() => void this.maybeOffline(userId), OFFLINE_GRACE_MS);
      timer.unref();
      this.offlineTimers.set(userId, timer);
    });
  }

  /**
   * listen:start joins the socket to the call's listen room once the session is granted (only
   * supervisors and live calls); listen:stop and a disconnect leave it, and the listener's
   * session ends when none of their sockets is left in the room.
   */
  private registerListening(socket: AgentSocket): void {
    const { userId, role } = socket.data;
    const listening = new Set<string>();
    const allowed = tokenBucket(LISTEN_RATE);
    const leave = async (callId: string, reason: string) => {
      listening.delete(callId);
      await socket.leave(listenRoom(callId));
      const still = (await this.io.in(listenRoom(callId)).fetchSockets()).some((s) => s.data.userId === userId);
      if (!still) await this.deps.listening?.stop(userId, callId, reason);
    };
    socket.on("listen:start", async (body, ack) => {
      const reply = typeof ack === "function" ? ack : () => undefined;
      if (!allowed()) return reply({ ok: false, error: "rate_limited" });
      const parsed = listenBody.safeParse(body);
      if (!parsed.success) return reply({ ok: false, error: "validation_failed" });
      if (!this.deps.listening) return reply({ ok: false, error: "unavailable" });
      const { callId } = parsed.data;
      const room = listenRoom(callId);
      const wasListening = listening.has(callId);
      let joined = false;
      try {
        const { sessionId } = await this.deps.listening.start({ id: userId, role }, callId, async () => {
          await socket.join(room);
          joined = true;
        });
        listening.add(callId);
        // Gone while the session was being set up: its disconnect found nothing to end yet.
        if (socket.disconnected) return void (await leave(callId, "disconnected"));
        reply({ ok: true, sessionId });
      } catch (err) {
        // Joined, then the stream could not be had: out again (unless it listened already).
        if (joined && !wasListening) await socket.leave(room);
        const e = err as { code?: string; message?: string };
        reply({ ok: false, error: e.code ?? "internal", message: e.code ? e.message : "Listening could not start" });
      }
    });
    socket.on("listen:stop", async (body, ack) => {
      const reply = typeof ack === "function" ? ack : () => undefined;
      const parsed = listenBody.safeParse(body);
      if (!parsed.success) return reply({ ok: false, error: "validation_failed" });
      // Nothing to stop on a call this socket does not listen to: no cluster-wide look, no
      // lock (a flood of stops costs nothing; listening itself is rate-limited at its start).
      if (!listening.has(parsed.data.callId)) return reply({ ok: true });
      try {
        await leave(parsed.data.callId, "stopped");
        reply({ ok: true });
      } catch {
        reply({ ok: false, error: "unavailable" });
      }
    });
    socket.on("disconnect", () => {
      for (const callId of [...listening]) {
        leave(callId, "disconnected").catch((err: Error) => this.deps.log.warn({ err: err.message, callId }, "ending a listen session failed"));
      }
    });
  }

  /**
   * A listened call's audio, to its listeners only. Not volatile: Socket.IO drops volatile packets
   * whenever the transport is mid-write, which at 10 packets a second per track loses most of
   * them; about 16 kB/s per call is little to queue for a slow listener.
   */
  relayAudio(a: ListenAudioMessage): void {
    this.io.to(listenRoom(a.callId)).emit("listen:audio", a);
  }

  /** The call's stream is over: its listeners are told and leave the room. */
  listenEnded(callId: string, reason: string): void {
    this.io.to(listenRoom(callId)).emit("listen:ended", { callId, reason });
    this.io.in(listenRoom(callId)).socketsLeave(listenRoom(callId));
  }

  /**
   * The last connection of a user (on any process) is gone: offline. A connection that came
   * while this ran found the agent not yet offline and left them as they were: it is looked for
   * again after the write, and wins. If the cluster cannot be asked (Redis down), asked again
   * after another grace period, so an agent who left is not rung for good.
   */
  private async maybeOffline(userId: string): Promise<void> {
    this.offlineTimers.delete(userId);
    const connections = async () => (await this.io.in(userRoom(userId)).fetchSockets()).length;
    try {
      if ((await connections()) > 0) return;
      await this.deps.presence.set(userId, "offline");
      const status = (await connections()) > 0 ? await this.deps.presence.connected(userId) : "offline";
      this.announcePresence(userId, status);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, "presence offline check failed; trying again");
      if (this.closing || this.offlineTimers.has(userId)) return;
      const timer = setTimeout(() => void this.maybeOffline(userId), OFFLINE_GRACE_MS);
      timer.unref();
      this.offlineTimers.set(userId, timer);
    }
  }

  /**
   * Sends stored pops to their agents wherever they are connected: this process delivers to
   * the connections it holds, and tells the other processes once, for the whole batch, to do
   * the same with theirs (each marks what its connections acknowledge). A broadcast with an
   * acknowledgement per pop cost two Redis round trips each (the message, and a count of the
   * cluster's processes to know how many answers to wait for), and every process decoded every
   * pop twice over. Lost on the way (Redis away), a pop stays unacknowledged: the sweep sends it
   * again while its call rings, and the agent's next connection gets it.
   */
  sendPops(calls: PopDelivery[]): void {
    if (this.closing || calls.length === 0) return; // stored: it is replayed when the agent connects again
    this.deliverPops(calls);
    if (this.redis) this.io.serverSideEmit("screen-pops", calls);
  }

  /** Emits stored pops to this process's own connections of their agents. */
  private deliverPops(calls: PopDelivery[]): void {
    if (this.closing) return;
    for (const { content, to } of calls) {
      for (const { userId, popId } of to) this.sendPop(userId, { popId, ...content });
    }
  }

  /**
   * Emits a stored pop with an acknowledgement to each of this process's connections of the
   * agent (or to one socket); the first ack marks it received. Socket by socket, not to the
   * agent's room: a room broadcast with an acknowledgement waits for an answer from every
   * process of the cluster (it counts them in Redis first), even when told to stay local.
   */
  private sendPop(userId: string, pop: ScreenPopMessage, socket?: AgentSocket): void {
    type AckEmitter = { flags: { local?: boolean }; emit(ev: "screen-pop", pop: ScreenPopMessage, cb: (err: Error | null) => void): void };
    let received = false;
    for (const s of socket ? [socket] : this.localSockets(userId)) {
      const emitter = s.timeout(ACK_TIMEOUT_MS) as unknown as AckEmitter;
      // With connection state recovery on, Socket.IO hands even one socket's packet to the
      // adapter, which appends it to the cluster's Redis stream (every process then reads and
      // decodes it) so that it could be replayed; a packet with an acknowledgement never is.
      // `local` keeps it off the stream (Socket.IO's own flag; a test checks that pops stay
      // off the stream).
      emitter.flags.local = true;
      emitter.emit("screen-pop", pop, (err) => {
        // A socket gone before it answered did not receive the pop (see settlePendingAcks).
        if (err || received || !s.connected) return;
        received = true;
        this.deps.pops.markAcked(pop.popId);
      });
    }
  }

  /** The agent's connections held by this process. */
  private localSockets(userId: string): AgentSocket[] {
    const nsp = this.io.of("/");
    const ids = nsp.adapter.rooms.get(userRoom(userId));
    return ids ? [...ids].flatMap((id) => nsp.sockets.get(id) ?? []) : [];
  }

  /**
   * Resolves once this process listens to the cluster (its adapter's private channel has a
   * subscriber), so a process is not reported started before it can receive broadcasts, and a
   * quick stop never races the adapter's own SUBSCRIBE. Gives up (false) after `timeoutMs`, e.g.
   * with Redis down: the adapter keeps trying on its own.
   */
  async ready(timeoutMs = 5000): Promise<boolean> {
    if (!this.redis) return true;
    const uid = (this.io.of("/").adapter as unknown as { uid: string }).uid;
    const channel = `${this.deps.queuePrefix}:socket.io#/#${uid}#`;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const subscribed = (await this.redis.pubsub("NUMSUB", channel).catch(() => [channel, 0])) as [string, number];
      if (Number(subscribed[1]) > 0) return true;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    this.deps.log.warn("realtime: not subscribed to the cluster yet; continuing");
    return false;
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.reassertTimer);
    for (const t of this.offlineTimers.values()) clearTimeout(t);
    await this.deps.pops.flushAcks();
    if (this.attached) {
      // Disconnects every socket and closes the HTTP server it is attached to.
      await new Promise<void>((resolve) => void this.io.close(() => resolve()));
    } else {
      // An emitter-only instance (a worker) has no engine: io.close() would throw.
      this.io.disconnectSockets(true);
      await Promise.resolve(this.io.of("/").adapter.close());
    }
    // The adapter is closed (its reader stops after its read): cut that read short.
    for (const c of this.adapterClients) c.disconnect();
    // Commands in flight (heartbeats, acks) get their replies instead of failing.
    if (this.redis) await closeRedis(this.redis);
  }
}
