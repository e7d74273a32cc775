/**
 * CPU time of this process and of everything it starts, read from a control group of its own.
 * `process.cpuUsage` sees this process alone, and `/proc`'s child times only children it reaped
 * itself: a sandboxed session's processes are reaped inside bubblewrap's PID namespace, or orphaned
 * when its monitor exits first, and never reach either. A control group counts every process that
 * was forked inside it, wherever it ends up.
 *
 * Needs root and a cgroup v1 `cpuacct` or a cgroup v2 hierarchy; elsewhere {@link openCpuAccount}
 * returns null and the benches print the figures they can read. Accounting only: no controller
 * is enabled, so nothing is throttled or scheduled differently.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A control group this process runs in, for as long as it is open. */
export interface CpuAccount {
  /** CPU time (user + system) of every process ever in the group, in ms. */
  usageMs(): number;
  /** Moves this process back and removes the group (best effort). */
  close(): void;
}

interface Hierarchy {
  root: string;
  read(dir: string): number;
}

const HIERARCHIES: readonly Hierarchy[] = [
  // cgroup v1: cpuacct.usage is nanoseconds.
  {
    root: "/sys/fs/cgroup/cpuacct",
    read: (dir) => Number(readFileSync(join(dir, "cpuacct.usage"), "utf8")) / 1e6,
  },
  // cgroup v2 (unified, or beside v1 in a hybrid layout): cpu.stat's usage_usec.
  ...["/sys/fs/cgroup", "/sys/fs/cgroup/unified"].map((root) => ({
    root,
    read: (dir: string) => {
      const line = readFileSync(join(dir, "cpu.stat"), "utf8")
        .split("\n")
        .find((l) => l.startsWith("usage_usec "));
      return Number(line?.split(" ")[1]) / 1000;
    },
  })),
];

/** Moves this process into a new control group; null where none can be made. */
export function openCpuAccount(name = `gatehouse-bench-${process.pid}`): CpuAccount | null {
  for (const h of HIERARCHIES) {
    const probe = h.root.endsWith("cpuacct") ? "cpuacct.usage" : "cpu.stat";
    if (!existsSync(join(h.root, probe)) && !existsSync(join(h.root, "cgroup.procs"))) continue;
    const dir = join(h.root, name);
    try {
      mkdirSync(dir);
    } catch {
      continue;
    }
    const close = (): void => {
      try {
        writeFileSync(join(h.root, "cgroup.procs"), String(process.pid));
        rmdirSync(dir);
      } catch {
        // a process of ours still in it: the empty group stays until the machine restarts
      }
    };
    try {
      writeFileSync(join(dir, "cgroup.procs"), String(process.pid));
      if (!Number.isFinite(h.read(dir))) throw new Error("no CPU usage to read");
      return { usageMs: () => h.read(dir), close };
    } catch {
      close();
    }
  }
  return null;
}
