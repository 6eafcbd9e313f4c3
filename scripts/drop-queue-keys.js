// Removes the Redis keys of one installation (its queue and Socket.IO stream, all under
// `${prefix}:`): the bench and the fault suite run the service under a throwaway QUEUE_PREFIX
// and tidy up after it as they drop its database.
const Redis = require("ioredis");

async function dropQueueKeys(redisUrl, prefix) {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== "0");
  } catch {
    // Redis gone: nothing to tidy
  } finally {
    redis.disconnect();
  }
}

module.exports = { dropQueueKeys };
