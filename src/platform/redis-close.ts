import type Redis from "ioredis";

/**
 * Closes a Redis client gracefully (commands in flight get their replies) but never waits more
 * than a moment: with Redis down, quit() would wait for a reconnection that may never come.
 */
export async function closeRedis(r: Redis, timeoutMs = 2000): Promise<void> {
  if (r.status === "end") return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([r.quit().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  r.disconnect();
}

/**
 * Keeps the clients made from `r` by duplicate(), for their owner to close. The Socket.IO Redis
 * Streams adapter makes its own (a stream reader, a subscriber) and stops its reader only once a
 * blocking read returns, which never happens with Redis down: the read waits for a reconnection,
 * and the client's reconnection timers kept the process alive after its close.
 *
 * Their disconnect() does nothing once they have ended. The adapter disconnects its reader again
 * when the read its owner cut short returns, and ioredis (5.x) then waits 2 s for a close event
 * that its connection already had: a timer that held a stopped process that long.
 */
export function keepDuplicates(r: Redis): Redis[] {
  const made: Redis[] = [];
  const duplicate = r.duplicate.bind(r);
  r.duplicate = (override) => {
    const d = duplicate(override);
    const disconnect = d.disconnect.bind(d);
    d.disconnect = (reconnect?: boolean) => {
      if (d.status !== "end") disconnect(reconnect);
    };
    made.push(d);
    return d;
  };
  return made;
}
