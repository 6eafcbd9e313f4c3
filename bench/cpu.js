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

/** The machine's CPU ticks since boot, all cores: in all, idle (with I/O wait) and stolen by the hypervisor. */
function machineTicks() {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  return { total: user + nice + system + idle + iowait + irq + softirq + steal, idle: idle + iowait, steal };
}

/**
 * How busy the whole machine was from now until `share()`, and how much of its time the
 * hypervisor took (a neighbour's load): a run with steal is slower for reasons outside it.
 */
function machineMeter() {
  const m0 = machineTicks();
  return {
    share() {
      const m1 = machineTicks();
      const pct = (ticks) => Math.round((100 * ticks) / Math.max(1, m1.total - m0.total));
      const steal = m1.steal - m0.steal;
      return { busyPct: pct(m1.total - m0.total - (m1.idle - m0.idle) - steal), stealPct: pct(steal) };
    },
  };
}

/**
 * CPU spent from now until `per(count)` is called, in ms per unit: the server process (`pid`),
 * PostgreSQL (every backend), Redis, and the process measuring (a load generator shares the
 * cores with what it loads).
 */
function cpuMeter(pid) {
  const at = () => ({ server: cpuSeconds(pid), postgres: cpuSeconds("postgres"), redis: cpuSeconds("redis-server"), loadGenerator: cpuSeconds(process.pid) });
  const t0 = at();
  const machine = machineMeter();
  return {
    per(count) {
      const t1 = at();
      const ms = (k) => Math.round(((t1[k] - t0[k]) / Math.max(1, count)) * 1e5) / 1e2;
      return { server: ms("server"), postgres: ms("postgres"), redis: ms("redis"), loadGenerator: ms("loadGenerator"), machine: machine.share() };
    },
  };
}

module.exports = { cpuSeconds, cpuMeter, machineMeter };
