/** Removes the Redis keys under `${prefix}:` (a queue and Socket.IO stream of one installation). */
export function dropQueueKeys(redisUrl: string, prefix: string): Promise<void>;
