// CPU time of the processes a benchmark loads, read from /proc (Linux).
const fs = require("node:fs");

/** CPU seconds (user + system) of one process, or of every process with that command name. */
function cpuSeconds(pidOrComm) {
  const read = (pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return { comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), ticks: Number(f[11]) + Number(f[12]) };
    } catch {
      return { comm: "", ticks: 0 }; // gone meanwhile
    }
  };
  if (typeof pidOrComm === "number") return read(pidOrComm).ticks / 100;
  let ticks = 0;
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    const r = read(pid);
    if (r.comm === pidOrComm) ticks += r.ticks;
  }
  return ticks / 100;
}

/**
 * CPU spent from now until `per(count)` is called, in ms per unit: the server process (`pid`),
 * PostgreSQL (every backend) and Redis.
 */
function cpuMeter(pid) {
  const at = () => ({ server: cpuSeconds(pid), postgres: cpuSeconds("postgres"), redis: cpuSeconds("redis-server") });
  const t0 = at();
  return {
    per(count) {
      const t1 = at();
      const ms = (k) => Math.round(((t1[k] - t0[k]) / Math.max(1, count)) * 1e5) / 1e2;
      return { server: ms("server"), postgres: ms("postgres"), redis: ms("redis") };
    },
  };
}

module.exports = { cpuSeconds, cpuMeter };
