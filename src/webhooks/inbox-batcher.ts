import type { ApplyHints } from "../platform/queue/jobs";
import type { InboxProcessor, ProcessResult } from "./inbox-processor";

interface Waiting {
  inboxId: string;
  lane: string | undefined;
  ringing: boolean;
  resolve(result: ProcessResult): void;
  reject(err: unknown): void;
}

/**
 * Deliveries in one transaction at most. Ringing calls: few, so that a pop waits for few others.
 * The rest: enough to spread a transaction's fixed statements thin when a backlog is applied
 * (with 64 jobs, 32 instead of 8 took a whole call's deliveries from 5.1 to 4.0 statements each).
 */
export const MAX_BATCH = { ringing: 8, other: 32 } as const;

/**
 * Group commit for applying deliveries. The queue runs many jobs at once; those that arrive
 * while earlier ones are being applied share a transaction (InboxProcessor.processMany), which
 * saves each of them a BEGIN, a lock statement, a COMMIT and the statement that writes its
 * audit entries and pushes. Idle, a delivery is applied at once, alone: batching adds no wait,
 * it only happens under load. Each job still learns its own delivery's result, and a shared
 * transaction that fails is replayed one delivery at a time, so one bad delivery fails alone.
 *
 * Deliveries of one lane (one call) never run in two transactions at once: they would lock the
 * same call row, and two shared transactions each holding one call and wanting the other's
 * would deadlock. A delivery whose lane is busy waits for the next transaction.
 *
 * A ringing call's delivery is what an agent's screen-pop waits for: it never waits behind, or
 * inside, a transaction of other deliveries. Ringing calls have transactions of their own (as
 * many again) and go first; only when those are all busy do ringing calls share one.
 */
export class InboxBatcher {
  private readonly waiting: Waiting[] = [];
  private readonly busyLanes = new Set<string>();
  private readonly inFlight = { ringing: 0, other: 0 };

  /** `transactions`: how many transactions apply deliveries at once, for ringing calls and for the rest each (the others wait and gather). */
  constructor(
    private readonly inbox: InboxProcessor,
    private readonly transactions: number,
  ) {}

  apply(inboxId: string, hints: ApplyHints = {}): Promise<ProcessResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ inboxId, lane: hints.lane, ringing: hints.ringing === true, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    for (;;) {
      // Ringing calls first, in transactions of their own; under load they share them too.
      const ringing = this.inFlight.ringing < this.transactions ? this.take((w) => w.ringing, MAX_BATCH.ringing) : [];
      const kind = ringing.length > 0 ? "ringing" : "other";
      const batch = kind === "ringing" ? ringing : this.inFlight.other < this.transactions ? this.take((w) => !w.ringing, MAX_BATCH.other) : [];
      if (batch.length === 0) return;
      const lanes = new Set(batch.flatMap((w) => (w.lane ? [w.lane] : [])));
      for (const lane of lanes) this.busyLanes.add(lane);
      this.inFlight[kind]++;
      void this.run(batch).finally(() => {
        for (const lane of lanes) this.busyLanes.delete(lane);
        this.inFlight[kind]--;
        this.pump();
      });
    }
  }

  /**
   * Up to `max` of the oldest waiting deliveries that `fit` and whose lanes are free, in the
   * order they came. A delivery never overtakes an earlier one of its call still waiting (a
   * leg's status behind the ringing call it belongs to): it would find no call and be deferred.
   */
  private take(fit: (w: Waiting) => boolean, max: number): Waiting[] {
    const batch: Waiting[] = [];
    const held = new Set<string>();
    for (let i = 0; i < this.waiting.length && batch.length < max; ) {
      const w = this.waiting[i]!;
      if (!fit(w) || (w.lane && (this.busyLanes.has(w.lane) || held.has(w.lane)))) {
        if (w.lane) held.add(w.lane);
        i++;
      } else batch.push(...this.waiting.splice(i, 1));
    }
    return batch;
  }

  private async run(batch: Waiting[]): Promise<void> {
    // A job run twice at once (a stalled job, a sweeper re-enqueue): one applies, the other skips.
    const first = new Map<string, Waiting>();
    for (const w of batch) {
      if (first.has(w.inboxId)) w.resolve("skipped");
      else first.set(w.inboxId, w);
    }
    const unique = [...first.values()];
    const shared = unique.length > 1 ? await this.inbox.processMany(unique.map((w) => w.inboxId)) : undefined;
    for (const w of unique) {
      const result = shared?.get(w.inboxId);
      if (result) w.resolve(result);
      else await this.inbox.process(w.inboxId).then(w.resolve, w.reject);
    }
  }
}
