import { InboxBatcher } from "../../src/webhooks/inbox-batcher";
import type { InboxProcessor, ProcessResult } from "../../src/webhooks/inbox-processor";

/** A processor that records what ran together and finishes only when told. */
function fakeInbox(opts: { failShared?: boolean } = {}) {
  const runs: Array<{ kind: "one" | "many"; ids: string[]; finish: () => void }> = [];
  // Ids name their call by their first letter: a1, a2 are deliveries of call a.
  const busyCalls = new Map<string, number>();
  const clashes: string[] = [];
  const start = (kind: "one" | "many", ids: string[]) =>
    new Promise<void>((finish) => {
      const calls = new Set(ids.map((id) => id[0]!));
      for (const c of calls) {
        if (busyCalls.get(c)) clashes.push(c);
        busyCalls.set(c, (busyCalls.get(c) ?? 0) + 1);
      }
      runs.push({
        kind,
        ids,
        finish: () => {
          for (const c of calls) busyCalls.set(c, busyCalls.get(c)! - 1);
          finish();
        },
      });
    });
  const inbox = {
    async process(id: string): Promise<ProcessResult> {
      await start("one", [id]);
      if (id.startsWith("bad")) throw new Error(`cannot apply ${id}`);
      return "done";
    },
    async processMany(ids: string[]): Promise<Map<string, ProcessResult> | undefined> {
      await start("many", ids);
      return opts.failShared ? undefined : new Map(ids.map((id) => [id, "done" as const]));
    },
  };
  return { inbox: inbox as unknown as InboxProcessor, runs, clashes };
}

const settle = () => new Promise((r) => setImmediate(r));

async function finishAll(runs: Array<{ finish: () => void }>, done: Promise<unknown>) {
  let finished = 0;
  let over = false;
  void done.finally(() => (over = true));
  while (!over) {
    await settle();
    while (finished < runs.length) runs[finished++]!.finish();
  }
}

describe("InboxBatcher", () => {
  it("applies a lone delivery at once, by itself", async () => {
    const { inbox, runs } = fakeInbox();
    const batcher = new InboxBatcher(inbox, 2);
    const result = batcher.apply("a", { lane: "call-1" });
    await settle();
    expect(runs.map((r) => [r.kind, r.ids])).toEqual([["one", ["a"]]]);
    runs[0]!.finish();
    await expect(result).resolves.toBe("done");
  });

  it("gathers deliveries that arrive while the transactions are busy into one shared transaction", async () => {
    const { inbox, runs } = fakeInbox();
    const batcher = new InboxBatcher(inbox, 1);
    const first = batcher.apply("a", { lane: "call-1" });
    const rest = ["b", "c", "d"].map((id, i) => batcher.apply(id, { lane: `call-${i + 2}` }));
    await settle();
    expect(runs.map((r) => r.ids)).toEqual([["a"]]);
    runs[0]!.finish();
    await first;
    await settle();
    expect(runs.map((r) => [r.kind, r.ids])).toEqual([
      ["one", ["a"]],
      ["many", ["b", "c", "d"]],
    ]);
    runs[1]!.finish();
    await expect(Promise.all(rest)).resolves.toEqual(["done", "done", "done"]);
  });

  it("never applies two deliveries of one call in different transactions at once", async () => {
    const { inbox, runs, clashes } = fakeInbox();
    const batcher = new InboxBatcher(inbox, 3);
    const all = Promise.all([
      batcher.apply("a1", { lane: "call-a" }),
      batcher.apply("b1", { lane: "call-b" }),
      batcher.apply("a2", { lane: "call-a" }),
      batcher.apply("c1", { lane: "call-c" }),
      batcher.apply("a3", { lane: "call-a" }),
      batcher.apply("b2", { lane: "call-b" }),
    ]);
    await settle();
    // Three transactions at once, each on its own calls; the other deliveries of call-a and
    // call-b wait for theirs to finish.
    expect(runs.map((r) => r.ids)).toEqual([["a1"], ["b1"], ["c1"]]);
    runs[0]!.finish();
    await settle();
    await settle();
    expect(runs.map((r) => r.ids)).toContainEqual(["a2", "a3"]);
    await finishAll(runs, all);
    await expect(all).resolves.toEqual(Array(6).fill("done"));
    expect(clashes).toEqual([]);
    // call-a's deliveries in the order they came: a1 alone, then a2 and a3 together.
    expect(runs.flatMap((r) => r.ids.filter((id) => id.startsWith("a")))).toEqual(["a1", "a2", "a3"]);
  });

  it("replays a failed shared transaction one delivery at a time, so a bad delivery fails alone", async () => {
    const { inbox, runs } = fakeInbox({ failShared: true });
    const batcher = new InboxBatcher(inbox, 1);
    const first = batcher.apply("x", { lane: "call-x" });
    const results = ["good-1", "bad-2", "good-3"].map((id) => batcher.apply(id, { lane: id }).then((r) => r, (err: Error) => err.message));
    await settle();
    runs[0]!.finish();
    await first;
    await finishAll(runs, Promise.all(results));
    expect(await Promise.all(results)).toEqual(["done", "cannot apply bad-2", "done"]);
    expect(runs.map((r) => [r.kind, r.ids])).toEqual([
      ["one", ["x"]],
      ["many", ["good-1", "bad-2", "good-3"]],
      ["one", ["good-1"]],
      ["one", ["bad-2"]],
      ["one", ["good-3"]],
    ]);
  });

  it("answers a job that runs twice at once from one application", async () => {
    const { inbox, runs } = fakeInbox();
    const batcher = new InboxBatcher(inbox, 1);
    const first = batcher.apply("x");
    const twice = [batcher.apply("d"), batcher.apply("d"), batcher.apply("e")];
    await settle();
    runs[0]!.finish();
    await first;
    await finishAll(runs, Promise.all(twice));
    expect(await Promise.all(twice)).toEqual(["done", "skipped", "done"]);
    expect(runs[1]!.ids).toEqual(["d", "e"]);
  });

  it("applies ringing calls first, in transactions of their own, beside busy shared ones", async () => {
    const { inbox, runs } = fakeInbox();
    const batcher = new InboxBatcher(inbox, 1);
    const busy = batcher.apply("a", { lane: "call-a" });
    const queued = ["b", "c"].map((id) => batcher.apply(id, { lane: `call-${id}` }));
    const ringing = ["r", "s"].map((id) => batcher.apply(id, { lane: `call-${id}`, ringing: true }));
    await settle();
    // The one shared transaction is busy with a; r does not wait for it, nor for b and c.
    expect(runs.map((r) => [r.kind, r.ids])).toEqual([
      ["one", ["a"]],
      ["one", ["r"]],
    ]);
    const t = batcher.apply("t", { lane: "call-t", ringing: true });
    runs[1]!.finish();
    await expect(ringing[0]).resolves.toBe("done");
    await settle();
    // The ringing calls that waited share the next ringing transaction, ahead of b and c.
    expect(runs.map((r) => r.ids)).toEqual([["a"], ["r"], ["s", "t"]]);
    await finishAll(runs, Promise.all([busy, ...queued, ...ringing, t]));
    // b and c were gathered while a ran, and never with a ringing delivery.
    expect(runs.map((r) => r.ids)).toEqual([["a"], ["r"], ["s", "t"], ["b", "c"]]);
  });

  it("shares a transaction among at most 32 deliveries of other work, and 8 ringing calls", async () => {
    const { inbox, runs } = fakeInbox();
    const batcher = new InboxBatcher(inbox, 1);
    const busy = [batcher.apply("a", { lane: "call-a" }), batcher.apply("r", { lane: "call-r", ringing: true })];
    const others = Array.from({ length: 40 }, (_, i) => batcher.apply(`o${i}`, { lane: `call-o${i}` }));
    const ringing = Array.from({ length: 10 }, (_, i) => batcher.apply(`p${i}`, { lane: `call-p${i}`, ringing: true }));
    await finishAll(runs, Promise.all([...busy, ...others, ...ringing]));
    const ids = (prefix: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);
    expect(runs.map((r) => r.ids)).toEqual([["a"], ["r"], ids("o", 0, 32), ids("p", 0, 8), ids("o", 32, 40), ids("p", 8, 10)]);
  });

  it("never lets a delivery overtake an earlier one of its call that is still waiting", async () => {
    const { inbox, runs } = fakeInbox();
    const batcher = new InboxBatcher(inbox, 1);
    const busy = batcher.apply("r", { lane: "call-r", ringing: true });
    // The call rings (its transaction kind is busy), then its agent's leg reports, then another call's.
    const ringing = batcher.apply("a1", { lane: "call-a", ringing: true });
    const leg = batcher.apply("a2", { lane: "call-a" });
    const other = batcher.apply("b1", { lane: "call-b" });
    await settle();
    // b1 goes; a2 waits behind a1, though a transaction for it is free.
    expect(runs.map((r) => r.ids)).toEqual([["r"], ["b1"]]);
    await finishAll(runs, Promise.all([busy, ringing, leg, other]));
    const order = runs.map((r) => r.ids.join(","));
    expect(order.indexOf("a1")).toBeLessThan(order.indexOf("a2"));
  });
});
