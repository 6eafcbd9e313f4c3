import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import net from "node:net";
import { waitFor } from "./wait-for";

/** Tests that kill Redis run their own redis-server, never the shared one. */
export const haveRedisServer = (): boolean => spawnSync("redis-server", ["--version"]).status === 0;

/** A private redis-server on `port`, once it accepts connections. */
export async function startPrivateRedis(port: number): Promise<ChildProcess> {
  const redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  await waitFor(() => new Promise<boolean>((r) => net.connect(port, "127.0.0.1").on("connect", function (this: net.Socket) { this.destroy(); r(true); }).on("error", () => r(false))));
  return redis;
}
