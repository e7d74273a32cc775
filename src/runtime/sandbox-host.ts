/**
 * Facts about this host that a sandbox is built from: where `bwrap` is, which user jobs run as,
 * which system directories exist (and which of them are symlinks), real paths of what is bound or
 * hidden, and the processes inside a running sandbox (to signal the job, or to kill all of it).
 */
import { execFileSync } from "node:child_process";
import {
  accessSync,
  constants,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  statSync,
} from "node:fs";
import { basename, delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { HiddenPath } from "./sandbox.js";

/** The system user jobs run as when the gateway runs as root and `gateway.sandbox.user` is not set. */
export const DEFAULT_SANDBOX_USER = "gatehouse-sandbox";

/**
 * Read-only system directories every job sees. Not `/home`, `/root`, `/run`, `/var`, `/srv`,
 * `/mnt` or `/media`: that is where users, services and mounted volumes keep their own data.
 */
export const SYSTEM_PATHS: readonly string[] = [
  "/usr",
  "/bin",
  "/sbin",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/etc",
  "/opt",
];

/** The first executable `name` on `searchPath`, or null. A name with a slash is checked as it is. */
export function findExecutable(name: string, searchPath: string, cwd = "/"): string | null {
  const candidates = name.includes("/")
    ? [resolve(cwd, name)]
    : searchPath
        .split(delimiter)
        .filter((d) => d !== "" && isAbsolute(d))
        .map((d) => join(d, name));
  for (const c of candidates) {
    try {
      if (!statSync(c).isFile()) continue;
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return null;
}

/** The real path, or null when it does not exist (or cannot be resolved). */
export function realOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

/** Who a job runs as on the host, for permission checks. */
export interface JobIdentity {
  uid: number;
  gids: readonly number[];
}

/**
 * True when `who` may pass through every directory above `path` (and into `path` itself when
 * `enter`). A secret below a directory the job user cannot pass is out of its reach already, and
 * bubblewrap, running as that user, could not mount over it either.
 */
export function reachable(path: string, who: JobIdentity, enter = false): boolean {
  const parts = resolve(path)
    .split("/")
    .filter((p) => p !== "");
  const dirs = ["/"];
  for (let i = 1; i < parts.length + (enter ? 1 : 0); i++) dirs.push(`/${parts.slice(0, i).join("/")}`);
  for (const dir of dirs) {
    let st;
    try {
      st = statSync(dir);
    } catch {
      return false;
    }
    const bits = st.uid === who.uid ? st.mode >> 6 : who.gids.includes(st.gid) ? st.mode >> 3 : st.mode;
    if ((bits & 0o1) === 0) return false;
  }
  return true;
}

/** Secret paths that exist, resolved to real paths, with their kind; absent ones need no covering. */
export function resolveHidden(paths: readonly string[], who?: JobIdentity): HiddenPath[] {
  const out: HiddenPath[] = [];
  for (const p of paths) {
    // Both the path as configured and its target: a symlinked config file is hidden at both ends.
    for (const candidate of new Set([resolve(p), realOrNull(p)])) {
      if (candidate === null || (who !== undefined && !reachable(candidate, who))) continue;
      try {
        const st = statSync(candidate);
        out.push({ path: candidate, kind: st.isDirectory() ? "dir" : "file" });
      } catch {
        // does not exist (yet): nothing to hide
      }
    }
  }
  return out;
}

/** System directories as they are here: real directories to bind, symlinks to recreate. */
export function systemLayout(paths: readonly string[] = SYSTEM_PATHS): {
  dirs: string[];
  links: { path: string; target: string }[];
} {
  const dirs: string[] = [];
  const links: { path: string; target: string }[] = [];
  for (const p of paths) {
    try {
      const st = lstatSync(p);
      if (st.isSymbolicLink()) {
        const target = readlinkSync(p);
        // A relative top-level link (merged /usr) is recreated; anything else is bound where it leads.
        if (!isAbsolute(target) && dirname(p) === "/") links.push({ path: p, target });
        else {
          const real = realOrNull(p);
          if (real) dirs.push(real);
        }
      } else if (st.isDirectory()) {
        dirs.push(p);
      }
    } catch {
      // not on this system
    }
  }
  return { dirs, links };
}

/**
 * What a `node` job needs besides the system: the Node.js installation running the gateway, and
 * the gateway's own package with its dependencies (so a child can `import "gatehouse/client"`).
 * Installed from npm, the package sits in a `node_modules` with its dependencies beside it.
 */
export function runtimePaths(execPath: string = process.execPath): string[] {
  const out: string[] = [];
  const node = realOrNull(execPath);
  if (node) out.push(dirname(dirname(node)));
  const packageRoot = realOrNull(fileURLToPath(new URL("../../../", import.meta.url)));
  if (packageRoot) {
    const parent = dirname(packageRoot);
    const scoped = basename(parent).startsWith("@") ? dirname(parent) : parent;
    out.push(basename(scoped) === "node_modules" ? scoped : packageRoot);
  }
  return out;
}

/** A user jobs run as. */
export interface SandboxUser {
  name: string;
  uid: number;
  gid: number;
}

/** The passwd entry of a user name or numeric uid, or null when there is none. */
export function lookupUser(user: string): SandboxUser | null {
  let line: string | undefined;
  try {
    line = execFileSync("getent", ["passwd", user], { encoding: "utf8", timeout: 5000 }).split("\n")[0];
  } catch {
    // getent exits 2 for an unknown user; without getent, read the file.
    try {
      line = readFileSync("/etc/passwd", "utf8")
        .split("\n")
        .find((l) => {
          const [name, , uid] = l.split(":");
          return name === user || uid === user;
        });
    } catch {
      line = undefined;
    }
  }
  if (!line) return null;
  const [name, , uid, gid] = line.split(":");
  if (!name || uid === undefined || gid === undefined) return null;
  return { name, uid: Number(uid), gid: Number(gid) };
}

/**
 * Creates the dedicated system user (no home, no login shell, its own group). Gateways starting
 * at once may race: a failure is fine when the user exists afterwards.
 */
export function createSystemUser(name: string): SandboxUser {
  const shell = ["/usr/sbin/nologin", "/sbin/nologin", "/bin/false"].find((s) => {
    try {
      return statSync(s).isFile();
    } catch {
      return false;
    }
  });
  let lastError = "";
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      execFileSync(
        "useradd",
        [
          "--system",
          "--user-group",
          "--no-create-home",
          "--home-dir",
          "/nonexistent",
          ...(shell ? ["--shell", shell] : []),
          "--comment",
          "Gatehouse sandboxed jobs",
          name,
        ],
        { stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 },
      );
    } catch (err) {
      lastError = String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim();
    }
    const user = lookupUser(name);
    if (user) return user;
    // useradd refuses while another holds the passwd lock: wait a little and try again.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
  throw new Error(`cannot create system user ${name}: ${lastError || "useradd failed"}`);
}

/** Pids whose parent is `pid` (Linux). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter((s) => s !== "")
      .map(Number);
  } catch {
    // Kernels without CONFIG_PROC_CHILDREN: look through every process's parent.
    const out: number[] = [];
    let entries: string[] = [];
    try {
      entries = readdirSync("/proc").filter((e) => /^\d+$/.test(e));
    } catch {
      return out;
    }
    for (const e of entries) {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        if (ppid === pid) out.push(Number(e));
      } catch {
        // gone
      }
    }
    return out;
  }
}

/**
 * Signals a sandboxed job. `monitorPid` is bubblewrap's outside process; below it runs the
 * sandbox's init (PID 1 inside), and below that the job. Any signal but SIGKILL goes to the job
 * (its process group, or the job alone), so the monitor lives on to report the exit status; if
 * there is no job yet to receive it, the sandbox is killed. SIGKILL ends the whole sandbox: see
 * {@link killSandbox}.
 */
export function signalSandboxed(monitorPid: number, signal: NodeJS.Signals): void {
  if (signal !== "SIGKILL") {
    const init = childrenOf(monitorPid)[0];
    const jobs = init === undefined ? [] : childrenOf(init);
    let reached = false;
    for (const job of jobs) reached = sendSignal(-job, signal) || sendSignal(job, signal) || reached;
    if (reached) return;
  }
  killSandbox(monitorPid);
}

/**
 * Kills a sandbox and every process in it, at whatever point of bubblewrap's setup it is.
 *
 * Killing the monitor alone is not enough: the init leads a session of its own (`--new-session`)
 * from early in the setup, and takes `--die-with-parent` only later, after it has forked the job.
 * A monitor killed in between orphans an init that goes on to start the job, and nothing ever
 * ends it (a job that ignores SIGTERM outlived its session). So the init is killed itself: it is
 * PID 1 of the sandbox's PID namespace, and the kernel kills every process in a namespace whose
 * PID 1 dies. To find it without a race, the monitor's group is stopped first: a monitor with a
 * signal pending cannot complete a fork (the kernel restarts it), so no init appears after the
 * children are read, and an init that has not left the monitor's group yet is stopped with it.
 * Then the inits are killed, then the monitor's group (SIGKILL ends stopped processes too).
 */
export function killSandbox(monitorPid: number): void {
  // A monitor that is gone (reaped) has no sandbox left to find, and its pid may name another
  // process by now: only the group signal, which then reaches nothing.
  if (sendSignal(-monitorPid, "SIGSTOP")) {
    for (const init of childrenOf(monitorPid)) sendSignal(init, "SIGKILL");
  }
  sendSignal(-monitorPid, "SIGKILL");
}

function sendSignal(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
