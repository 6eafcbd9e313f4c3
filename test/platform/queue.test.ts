import { randomBytes } from "node:crypto";
import { dropQueueKeys } from "../../scripts/drop-queue-keys";
import { createLogger } from "../../src/platform/logger";
import { BullQueue } from "../../src/platform/queue/bull-queue";
import { InProcessQueue } from "../../src/platform/queue/in-process-queue";
import type { JobQueue } from "../../src/platform/queue/jobs";
import { redisUrl } from "../support/test-service";
import { waitFor } from "../support/wait-for";

const log = createLogger("silent");
const kinds: Array<[string, () => JobQueue]> = [["in-process", () => new InProcessQueue(log)]];
const url = redisUrl();
const prefixes: string[] = [];
const bullQueue = (): JobQueue => {
  const prefix = `tq${randomBytes(4).toString("hex")}`;
  prefixes.push(prefix);
  return new BullQueue(url!, log, prefix);
};
if (url) kinds.push(["bull", bullQueue]);
// Each Bull queue's keys go with it, so reruns on a shared Redis start clean.
afterAll(async () => {
  for (const prefix of prefixes) await dropQueueKeys(url!, prefix);
});

describe.each(kinds)("%s queue", (_kind, make) => {
  let queue: JobQueue;
  beforeEach(() => {
    queue = make();
  });
  afterEach(async () => queue.close());

  it("runs a job with its payload", async () => {
    const seen: string[] = [];
    queue.process("inbox.apply", async (p) => {
      seen.push(p.inboxId);
    });
    await queue.enqueue("inbox.apply", { inboxId: "a" });
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual(["a"]);
  });

  it("retries a failing job with backoff and reports the attempt number", async () => {
    const attempts: number[] = [];
    queue.process("inbox.apply", async (_p, ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt < 3) throw new Error("transient");
    });
    await queue.enqueue("inbox.apply", { inboxId: "retry" }, { jobId: "retry" });
    await waitFor(() => attempts.length === 3, { timeoutMs: 15_000 });
    expect(attempts).toEqual([1, 2, 3]);
  });

  it("deduplicates by jobId while the job is pending", async () => {
    let runs = 0;
    await queue.enqueue("inbox.apply", { inboxId: "x" }, { jobId: "same" });
    await queue.enqueue("inbox.apply", { inboxId: "x" }, { jobId: "same" });
    queue.process("inbox.apply", async () => {
      runs++;
    });
    await waitFor(() => runs >= 1);
    await queue.enqueue("inbox.apply", { inboxId: "y" }, { jobId: "other" });
    await waitFor(() => runs >= 2);
    expect(runs).toBe(2);
  });

  it("runs a finished job's id again when asked to (the sweeper, after PostgreSQL undid the job's work)", async () => {
    const runs: string[] = [];
    queue.process("inbox.apply", async (p) => {
      runs.push(p.inboxId);
    });
    await queue.enqueue("inbox.apply", { inboxId: "first" }, { jobId: "finished" });
    await waitFor(async () => runs.length === 1 && (await queue.depth()) === 0, { what: "the first run finished" });
    await queue.enqueue("inbox.apply", { inboxId: "again" }, { jobId: "finished", again: true });
    await waitFor(() => runs.length === 2, { what: "the second run" });
    expect(runs).toEqual(["first", "again"]);
  });

  it("close() waits for the running job to finish", async () => {
    let finished = false;
    let started = false;
    queue.process("inbox.apply", async () => {
      started = true;
      await new Promise((r) => setTimeout(r, 300));
      finished = true;
    });
    await queue.enqueue("inbox.apply", { inboxId: "slow" });
    await waitFor(() => started);
    await queue.close();
    expect(finished).toBe(true);
  });

  it("tells when the oldest job waiting or running was enqueued, among the names asked (the sweeper's cutoff)", async () => {
    const names = ["inbox.apply", "inbox.apply-batch"] as const;
    expect(await queue.oldestQueued(names)).toBeUndefined();
    const enqueueAt = async (at: number, inboxId: string) => {
      const clock = jest.spyOn(Date, "now").mockReturnValue(at);
      try {
        await queue.enqueue("inbox.apply-batch", { deliveries: [{ inboxId }] });
      } finally {
        clock.mockRestore();
      }
    };
    const hourAgo = Date.now() - 3_600_000;
    await enqueueAt(hourAgo, "oldest");
    await enqueueAt(hourAgo + 60_000, "second"); // behind it in the same queue
    await queue.enqueue("inbox.apply", { inboxId: "new" });
    await queue.enqueue("outbox.dispatch", {}, { delayMs: 60_000 }); // delayed, and not asked about
    expect(await queue.oldestQueued(names)).toBe(hourAgo);
    expect(await queue.oldestQueued(["inbox.apply"])).toBeGreaterThan(hourAgo);
    expect(await queue.oldestQueued(["outbox.dispatch"])).toBeUndefined();

    // A running job still counts (its deliveries are not applied yet); a finished one does not.
    const started: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    queue.process("inbox.apply-batch", async (p) => {
      started.push(p.deliveries[0]!.inboxId);
      if (p.deliveries[0]!.inboxId === "oldest") await held;
    });
    await waitFor(() => started.length === 2, { what: "both batch jobs taken" });
    expect(await queue.oldestQueued(["inbox.apply-batch"])).toBe(hourAgo);
    release();
    await waitFor(async () => (await queue.oldestQueued(["inbox.apply-batch"])) === undefined, { what: "the held job finished" });
  });

  it("reports depth and answers ping", async () => {
    expect(await queue.ping()).toBe(true);
    await queue.enqueue("outbox.dispatch", {}, { delayMs: 60_000 });
    expect(await queue.depth()).toBeGreaterThanOrEqual(1);
  });
});
