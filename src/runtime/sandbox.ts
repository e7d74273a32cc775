/**
 * The sandbox a job runs in, as data: which host paths it sees (read-only or writable), which it
 * must never see (the gateway's secrets), and the bubblewrap command line that builds exactly that.
 * Pure: no file system, no processes — the host facts (real paths, what is a directory) are
 * gathered by `sandbox-host.ts` and passed in, so every rule here is testable on its own.
 *
 * What a `bwrap` child gets (design principle 8):
 * - new user, PID, IPC, UTS and cgroup namespaces, a fresh `/proc` for its own PID namespace and a
 *   minimal `/dev`: the gateway's process, command line, environment and open files do not exist
 *   there;
 * - the network namespace is shared: the gateway stays reachable on loopback for the call-back;
 * - an empty root with only the listed paths bound in, a private `/tmp`, and every secret path
 *   covered (an unreadable empty directory, or an empty file) wherever it falls inside a bound path;
 * - its own session (`--new-session`), so the gateway can signal the job without signalling
 *   bubblewrap's monitor process, which must outlive the job to report its exit status.
 */

/** `gateway.sandbox.mode`: `bwrap` (default) or `none` (children run unsandboxed, as before). */
export type SandboxMode = "bwrap" | "none";
export const SANDBOX_MODES: readonly SandboxMode[] = ["bwrap", "none"];

/** A path the job must never see, and what it is on the host (covered differently). */
export interface HiddenPath {
  path: string;
  kind: "dir" | "file";
}

/** Everything the job's file system is made of. All paths absolute and already real (no symlinks). */
export interface SandboxSpec {
  /** Visible read-only at the same place (system directories, the node install, the gateway's package). */
  readOnly: readonly string[];
  /** Visible and writable at the same place (the job's working directory). */
  writable: readonly string[];
  /** Symbolic links recreated at the root (merged-/usr layouts: `/bin` → `usr/bin`). */
  links: readonly { path: string; target: string }[];
  /** Never visible, wherever they fall. */
  hidden: readonly HiddenPath[];
  /** The job's working directory inside the sandbox. */
  cwd: string;
}

/** Where a job starts when it names no working directory: its private, empty, writable `/tmp`. */
export const DEFAULT_SANDBOX_CWD = "/tmp";

/** True when `path` is `root` or lies below it. */
export function isInside(path: string, root: string): boolean {
  if (root === "/") return path.startsWith("/");
  return path === root || path.startsWith(`${root}/`);
}

/** Why the spec cannot be built safely, or null: a bound path inside (or equal to) a hidden one. */
export function specConflict(spec: SandboxSpec): string | null {
  for (const bound of [...spec.readOnly, ...spec.writable]) {
    const secret = spec.hidden.find((h) => isInside(bound, h.path));
    if (secret) return `${bound} is inside ${secret.path}, which holds the gateway's secrets`;
  }
  return null;
}

/** True when a host path would be visible to the job (inside a bound path and no hidden one). */
export function isVisible(path: string, spec: SandboxSpec): boolean {
  if (spec.hidden.some((h) => isInside(path, h.path))) return false;
  return [...spec.readOnly, ...spec.writable].some((root) => isInside(path, root));
}

function depth(path: string): number {
  return path === "/" ? 0 : path.split("/").length - 1;
}

/**
 * The `bwrap` arguments for `spec`, followed by `--` and the job's command. Mounts are ordered
 * parent before child (bubblewrap applies them in order); secrets are covered last, after every
 * mount that could contain them. Throws when {@link specConflict} finds a problem.
 */
export function bwrapArgs(spec: SandboxSpec, command: string, args: readonly string[]): string[] {
  const conflict = specConflict(spec);
  if (conflict) throw new Error(`sandbox: ${conflict}`);
  // --die-with-parent: a gateway killed outright (SIGKILL, OOM) takes its jobs with it; they would
  // otherwise run on as orphans after their sessions were marked lost and their tokens revoked.
  const out = ["--unshare-all", "--share-net", "--new-session", "--die-with-parent"];

  type Mount = { path: string; op: string[]; order: number };
  const mounts: Mount[] = [
    { path: "/proc", op: ["--proc", "/proc"], order: 0 },
    { path: "/dev", op: ["--dev", "/dev"], order: 0 },
    { path: "/tmp", op: ["--tmpfs", "/tmp"], order: 0 },
  ];
  // A path listed both ways is writable: the writable bind comes after (and so over) the read-only one.
  for (const p of new Set(spec.readOnly)) mounts.push({ path: p, op: ["--ro-bind", p, p], order: 1 });
  for (const p of new Set(spec.writable)) mounts.push({ path: p, op: ["--bind", p, p], order: 2 });
  mounts.sort((a, b) => depth(a.path) - depth(b.path) || a.order - b.order);

  const bound = mounts.map((m) => m.path);
  for (const link of spec.links) {
    if (bound.some((b) => isInside(link.path, b))) continue;
    out.push("--symlink", link.target, link.path);
  }
  for (const m of mounts) out.push(...m.op);

  for (const h of outermost(spec.hidden)) {
    // Only what a mount exposes needs covering; elsewhere the path does not exist in the sandbox.
    if (!spec.readOnly.some((r) => isInside(h.path, r)) && !spec.writable.some((w) => isInside(h.path, w))) {
      continue;
    }
    if (h.kind === "dir") {
      out.push("--perms", "0000", "--tmpfs", h.path, "--remount-ro", h.path);
    } else {
      out.push("--ro-bind", "/dev/null", h.path);
    }
  }
  out.push("--chdir", spec.cwd, "--", command, ...args);
  return out;
}

/** Hidden paths that are not inside another hidden path (covering the outer one covers both). */
function outermost(hidden: readonly HiddenPath[]): HiddenPath[] {
  const seen = new Set<string>();
  const out: HiddenPath[] = [];
  for (const h of hidden) {
    if (seen.has(h.path)) continue;
    seen.add(h.path);
    if (hidden.some((o) => o.path !== h.path && o.kind === "dir" && isInside(h.path, o.path))) continue;
    out.push(h);
  }
  return out;
}

/** Signal numbers Linux uses, for undoing bubblewrap's `128 + n` exit status. */
const SIGNALS: Readonly<Record<number, NodeJS.Signals>> = {
  1: "SIGHUP",
  2: "SIGINT",
  3: "SIGQUIT",
  4: "SIGILL",
  5: "SIGTRAP",
  6: "SIGABRT",
  7: "SIGBUS",
  8: "SIGFPE",
  9: "SIGKILL",
  10: "SIGUSR1",
  11: "SIGSEGV",
  12: "SIGUSR2",
  13: "SIGPIPE",
  14: "SIGALRM",
  15: "SIGTERM",
};

/**
 * The job's own end from its bubblewrap monitor's: bubblewrap reports a job killed by signal n as
 * exit status 128 + n (as shells do); the session record says which signal it was.
 */
export function jobExit(
  code: number | null,
  signal: NodeJS.Signals | null,
): { code: number | null; signal: NodeJS.Signals | null } {
  if (signal !== null || code === null || code <= 128) return { code, signal };
  const named = SIGNALS[code - 128];
  return named ? { code: null, signal: named } : { code, signal };
}
