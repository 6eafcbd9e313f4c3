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
