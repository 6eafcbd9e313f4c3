import Redis from "ioredis";
import { keepDuplicates } from "../../src/platform/redis-close";
import { redisUrl } from "../support/test-service";

/** Real-services pass only (it needs a Redis). */
const suite = redisUrl() ? describe : describe.skip;

suite("a Redis client's duplicates, kept for their owner to close", () => {
  // Found with Jest's "worker failed to exit gracefully": the Socket.IO adapter disconnected its
  // reader a second time after it had ended, and ioredis then held a 2 s timer for a close event
  // that had already come.
  it("are kept, and a disconnect after they ended starts nothing", async () => {
    const r = new Redis(redisUrl()!, { lazyConnect: true });
    const made = keepDuplicates(r);
    const d = r.duplicate();
    try {
      expect(made).toEqual([d]);
      await d.ping();
      const ended = new Promise((resolve) => d.once("end", resolve));
      d.disconnect();
      await ended;
      const connector = (d as unknown as { connector: { disconnect: () => void } }).connector;
      const again = jest.spyOn(connector, "disconnect");
      d.disconnect();
      expect(again).not.toHaveBeenCalled();
    } finally {
      d.disconnect();
      r.disconnect();
    }
  });
});
