import type { Server } from "socket.io";
import type { Presence, PresenceService } from "../crm";
import { userRoom } from "./rooms";
import type { ClientToServerEvents, ClusterEvents, ServerToClientEvents, SocketData } from "./realtime-events";

type IO = Server<ClientToServerEvents, ServerToClientEvents, ClusterEvents, SocketData>;
type Announce = (userId: string, status: Presence) => void;

/** Longer than the adapter's own wait for the other processes' answers (5 s). */
const CLUSTER_ANSWER_MS = 10_000;

/**
 * Presence follows connections through each process's own disconnect handling; this repairs what
 * that cannot see. A process that dies (killed, its machine gone) leaves its agents `available`
 * with no connection anywhere, and routing would ring them for good; a process cut off from the
 * cluster for a while may have let its agents be taken offline by another one.
 */
export class PresenceReconciler {
  constructor(
    private readonly io: IO,
    private readonly presence: PresenceService,
    private readonly announce: Announce,
    private readonly graceMs: number,
  ) {}

  /**
   * Run by one process of the cluster at a time: everyone presence counts as connected who has
   * no connection on any process, now and again after the grace period (an agent whose
   * connection blinks keeps their state, as on a disconnect), becomes offline. Asking the
   * cluster fails if a process does not answer in time: nothing is changed then.
   */
  async reconcileCluster(): Promise<{ offline: number; restored: number }> {
    const candidates = await this.presence.notOffline();
    if (candidates.length === 0) return { offline: 0, restored: 0 };
    const unseen = (ids: string[]) => this.connectedOf(ids).then((seen) => ids.filter((id) => !seen.has(id)));
    let gone = await unseen(candidates);
    if (gone.length === 0) return { offline: 0, restored: 0 };
    await new Promise((resolve) => setTimeout(resolve, this.graceMs));
    gone = await unseen(gone);
    const offline = await this.presence.setOffline(gone);
    // A connection that came while this ran found the agent not yet offline and left them as
    // they were: it is looked for again after the write, and wins (as on a disconnect).
    const back = offline.length > 0 ? await this.connectedOf(offline) : new Set<string>();
    const restored = await this.presence.connectedMany([...back]);
    for (const id of offline) if (!back.has(id)) this.announce(id, "offline");
    for (const r of restored) this.announce(r.userId, r.presence);
    return { offline: offline.length - back.size, restored: restored.length };
  }

  /**
   * Run by every process on its own: its connected users that presence counts as offline (taken
   * offline while this process could not answer the cluster) are connected again.
   */
  async reassertLocal(): Promise<number> {
    const local = new Set<string>();
    for (const socket of this.io.of("/").sockets.values()) if (socket.connected) local.add(socket.data.userId);
    const changed = await this.presence.connectedMany([...local]);
    for (const r of changed) this.announce(r.userId, r.presence);
    return changed.length;
  }

  /**
   * The users among `userIds` with a connection on any process of the cluster. Fails rather
   * than wait on Redis when it is away (its commands queue until it is back).
   */
  private async connectedOf(userIds: string[]): Promise<Set<string>> {
    const seen = new Set<string>();
    // A few thousand rooms per question at most, so that one message stays small.
    for (let i = 0; i < userIds.length; i += 2000) {
      const rooms = userIds.slice(i, i + 2000).map(userRoom);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("the cluster did not answer in time")), CLUSTER_ANSWER_MS);
      });
      try {
        for (const s of await Promise.race([this.io.in(rooms).fetchSockets(), late])) seen.add(s.data.userId);
      } finally {
        clearTimeout(timer);
      }
    }
    return seen;
  }
}
