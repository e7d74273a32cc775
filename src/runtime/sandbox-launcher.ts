/**
 * The sandbox as the session manager uses it: is it ready (bubblewrap found, the job user known,
 * the probe passed), and what command line starts a given job inside it. Fails closed: in mode
 * `bwrap`, no job starts until the probe has shown that the secrets are out of reach.
 */
import { dirname } from "node:path";
import { GatewayError } from "../protocol/errors.js";
import {
  bwrapArgs,
  DEFAULT_SANDBOX_CWD,
  isInside,
  isVisible,
  jobExit,
  specConflict,
  type SandboxMode,
  type SandboxSpec,
} from "./sandbox.js";
import {
  createSystemUser,
  DEFAULT_SANDBOX_USER,
  findExecutable,
  lookupUser,
  reachable,
  realOrNull,
  resolveHidden,
  runtimePaths,
  signalSandboxed,
  systemLayout,
  type JobIdentity,
  type SandboxUser,
} from "./sandbox-host.js";
import { probeCommand, runProbe } from "./sandbox-probe.js";

/** Plain settings (from `gateway.sandbox.*` and the paths the gateway's secrets live at). */
export interface SandboxOptions {
  /** Default `bwrap`. */
  mode?: SandboxMode;
  /** `gateway.sandbox.user`: who jobs run as when the gateway runs as root (name or uid). */
  user?: string;
  /** `gateway.sandbox.readOnlyPaths`: more host paths every job sees, read-only. */
  readOnlyPaths?: readonly string[];
  /** Paths never visible to a job: the state dir, the config file, TLS key and certificate, ... */
  secretPaths?: readonly string[];
  /** Where `bwrap` is looked for; default the gateway's `PATH`. */
  searchPath?: string;
  /** Whether the gateway runs as root; default from `process.getuid()`. */
  isRoot?: boolean;
}

/** The sandbox's state, for `status`, `doctor` and logs. */
export interface SandboxStatus {
  mode: SandboxMode;
  /** `off` (mode none), `unchecked` (no probe yet), `ready`, or `unavailable` (spawning is refused). */
  state: "off" | "unchecked" | "ready" | "unavailable";
  /** The `bwrap` binary in use. */
  bwrap: string | null;
  /** Who jobs run as; null: the gateway's own user. */
  user: string | null;
  /** Why it is unavailable. */
  problem: string | null;
}

/** A job as the session manager asks to start it. */
export interface JobRequest {
  command: string;
  args: readonly string[];
  /** Absolute; null: the sandbox's default (its private `/tmp`), or the gateway's cwd unsandboxed. */
  cwd: string | null;
  /** The `PATH` the job gets (to find `command` the way the job would). */
  path: string | undefined;
}

/** How to start one job and talk to it afterwards. */
export interface JobLaunch {
  file: string;
  args: string[];
  options: { cwd?: string; uid?: number; gid?: number };
  /** Sends `signal` to the job (and what it started), given the spawned process's pid. */
  signal(pid: number, signal: NodeJS.Signals): void;
  /** The job's exit status from the spawned process's. */
  exit(
    code: number | null,
    signal: NodeJS.Signals | null,
  ): { code: number | null; signal: NodeJS.Signals | null };
}

export interface Sandbox {
  readonly mode: SandboxMode;
  /** Resolves once jobs can start; rejects with `SANDBOX_UNAVAILABLE` saying how to fix it. */
  ready(): Promise<void>;
  /** Why a job cannot work in `cwd` (it lies inside a secret path), or null. */
  cwdProblem(cwd: string): string | null;
  /** The command line for `job`; call after {@link ready}. Throws an `ENOENT` error when `command` is not there. */
  launch(job: JobRequest): JobLaunch;
  status(): SandboxStatus;
}

const OPT_OUT = 'gateway.sandbox.mode "none" (children then run unsandboxed and can read the owner key)';
const INSTALL_HINT =
  "apt-get install bubblewrap (Fedora: dnf install bubblewrap; Arch: pacman -S bubblewrap)";

/** Builds the sandbox for these settings; nothing is probed until {@link Sandbox.ready}. */
export function createSandbox(options: SandboxOptions = {}): Sandbox {
  const mode = options.mode ?? "bwrap";
  return mode === "none" ? unsandboxed() : new BwrapSandbox(options);
}

function unsandboxed(): Sandbox {
  return {
    mode: "none",
    ready: () => Promise.resolve(),
    cwdProblem: () => null,
    launch: (job) => ({
      file: job.command,
      args: [...job.args],
      options: job.cwd !== null ? { cwd: job.cwd } : {},
      signal: signalGroup,
      exit: (code, signal) => ({ code, signal }),
    }),
    status: () => ({ mode: "none", state: "off", bwrap: null, user: null, problem: null }),
  };
}

/** The job leads its own process group (spawned detached): signal the group, or the job alone. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    if (process.platform === "win32") process.kill(pid, signal);
    else process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

interface Prepared {
  bwrap: string;
  user: SandboxUser | null;
  /** The job's host identity, for what it can reach. */
  who: JobIdentity;
  readOnly: string[];
  links: { path: string; target: string }[];
}

class BwrapSandbox implements Sandbox {
  readonly mode = "bwrap" as const;
  readonly #options: SandboxOptions;
  #prepared: Prepared | null = null;
  #pending: Promise<void> | null = null;
  #problem: string | null = null;

  constructor(options: SandboxOptions) {
    this.#options = options;
  }

  ready(): Promise<void> {
    if (this.#prepared) return Promise.resolve();
    // One probe at a time; a failure is not kept, so installing bubblewrap needs no restart.
    this.#pending ??= this.#prepare().finally(() => (this.#pending = null));
    return this.#pending;
  }

  status(): SandboxStatus {
    const p = this.#prepared;
    return {
      mode: "bwrap",
      state: p ? "ready" : this.#problem ? "unavailable" : "unchecked",
      bwrap: p?.bwrap ?? null,
      user: p?.user?.name ?? null,
      problem: p ? null : this.#problem,
    };
  }

  cwdProblem(cwd: string): string | null {
    const real = realOrNull(cwd) ?? cwd;
    const secret = resolveHidden(this.#options.secretPaths ?? []).find((h) => isInside(real, h.path));
    if (secret) return `${cwd} is inside ${secret.path}, which children never see`;
    const p = this.#prepared;
    if (p && !reachable(real, p.who, true)) {
      return `${cwd} is not accessible to ${p.user ? `the sandbox user ${p.user.name}` : "the gateway's user"}, who runs the child`;
    }
    return null;
  }

  launch(job: JobRequest): JobLaunch {
    const p = this.#prepared;
    if (!p) throw new GatewayError("SANDBOX_UNAVAILABLE", { details: { reason: "not-ready" } });
    const cwd = job.cwd === null ? null : (realOrNull(job.cwd) ?? job.cwd);
    const spec: SandboxSpec = {
      readOnly: p.readOnly,
      writable: cwd === null ? [] : [cwd],
      links: p.links,
      hidden: resolveHidden(this.#options.secretPaths ?? [], p.who),
      cwd: cwd ?? DEFAULT_SANDBOX_CWD,
    };
    const found = findExecutable(job.command, job.path ?? "", cwd ?? "/nonexistent");
    const real = found === null ? null : realOrNull(found);
    if (real === null || !isVisible(real, spec)) {
      const why =
        real === null
          ? ""
          : ` (${found} exists but not inside the sandbox: bind its directory with gateway.sandbox.readOnlyPaths or pass it a cwd)`;
      throw Object.assign(new Error(`spawn ${job.command} ENOENT${why}`), { code: "ENOENT" });
    }
    return {
      file: p.bwrap,
      args: bwrapArgs(spec, job.command, job.args),
      // bubblewrap starts in `/`: the gateway's own cwd may be one the job user cannot enter.
      options: { cwd: "/", ...(p.user ? { uid: p.user.uid, gid: p.user.gid } : {}) },
      signal: signalSandboxed,
      exit: jobExit,
    };
  }

  async #prepare(): Promise<void> {
    try {
      const prepared = this.#resolve();
      const secrets = (this.#options.secretPaths ?? []).filter((s) => realOrNull(s) !== null);
      const hidden = resolveHidden(secrets, prepared.who);
      // The probe also sees the directory around each secret, so covering is shown to work here
      // (not only that an unmounted path is absent).
      const around = hidden
        .map((h) => dirname(h.path))
        .filter((d) => reachable(d, prepared.who, true) && !hidden.some((h) => isInside(d, h.path)));
      const spec: SandboxSpec = {
        readOnly: [...prepared.readOnly, ...around],
        writable: [],
        links: prepared.links,
        hidden,
        cwd: DEFAULT_SANDBOX_CWD,
      };
      const probe = probeCommand(secrets);
      const result = await runProbe(prepared.bwrap, bwrapArgs(spec, probe.command, probe.args), {
        ...(prepared.user ? { uid: prepared.user.uid, gid: prepared.user.gid } : {}),
        expectUid: prepared.user?.uid ?? process.getuid?.() ?? 0,
      });
      if (!result.ok) {
        throw unavailable(
          result.reason === "leak" ? "probe-leak" : "bwrap-failed",
          result.reason === "leak"
            ? `${result.message}; no child is started until it does`
            : `bubblewrap (${prepared.bwrap}) cannot set up a sandbox here: ${result.message}`,
          result.reason === "leak"
            ? `report this (see SECURITY.md), or opt out with ${OPT_OUT}`
            : `check that unprivileged user namespaces are allowed (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0), or opt out with ${OPT_OUT}`,
        );
      }
      this.#prepared = prepared;
      this.#problem = null;
    } catch (err) {
      const e =
        err instanceof GatewayError
          ? err
          : unavailable(
              "setup-failed",
              err instanceof Error ? err.message : String(err),
              `or opt out with ${OPT_OUT}`,
            );
      this.#problem = e.message;
      throw e;
    }
  }

  /** bubblewrap, the job user and the read-only mounts, or SANDBOX_UNAVAILABLE saying what is missing. */
  #resolve(): Prepared {
    const o = this.#options;
    const bwrap = findExecutable("bwrap", o.searchPath ?? process.env.PATH ?? "");
    if (bwrap === null) {
      throw unavailable(
        "bwrap-missing",
        "bubblewrap (bwrap) is not installed or not on the gateway's PATH, so children cannot be sandboxed",
        `install it: ${INSTALL_HINT}; or opt out with ${OPT_OUT}`,
      );
    }
    const isRoot = o.isRoot ?? process.getuid?.() === 0;
    let user: SandboxUser | null = null;
    if (isRoot) {
      const name = o.user ?? DEFAULT_SANDBOX_USER;
      user = lookupUser(name);
      if (user === null && o.user === undefined) user = createSystemUser(name);
      if (user === null) {
        throw unavailable(
          "user",
          `gateway.sandbox.user ${JSON.stringify(name)} does not exist`,
          `create it (useradd --system ${name}) or name an existing unprivileged user`,
        );
      }
      if (user.uid === 0) {
        throw unavailable(
          "user",
          `gateway.sandbox.user ${JSON.stringify(name)} is root`,
          "name an unprivileged user",
        );
      }
    } else if (o.user !== undefined) {
      const wanted = lookupUser(o.user);
      if (wanted?.uid !== process.getuid?.()) {
        throw unavailable(
          "user",
          `gateway.sandbox.user is ${JSON.stringify(o.user)}, but only a gateway running as root can start children as another user`,
          "remove gateway.sandbox.user (children then run as the gateway's user, still sandboxed) or run the gateway as root",
        );
      }
    }
    const who: JobIdentity = user
      ? { uid: user.uid, gids: [user.gid] }
      : { uid: process.getuid?.() ?? 0, gids: process.getgroups?.() ?? [] };
    const system = systemLayout();
    const readOnly = [...system.dirs];
    // Node or the gateway's package where the job user cannot enter (e.g. under /root): not bound.
    for (const p of runtimePaths()) {
      if (!readOnly.some((r) => isInside(p, r)) && reachable(p, who, true)) readOnly.push(p);
    }
    for (const p of o.readOnlyPaths ?? []) {
      const real = realOrNull(p);
      if (real === null) {
        throw unavailable(
          "config",
          `gateway.sandbox.readOnlyPaths: ${p} does not exist`,
          "remove it from gateway.sandbox.readOnlyPaths or create it",
        );
      }
      readOnly.push(real);
    }
    const conflict = specConflict({
      readOnly,
      writable: [],
      links: [],
      hidden: resolveHidden(o.secretPaths ?? []),
      cwd: DEFAULT_SANDBOX_CWD,
    });
    if (conflict) {
      throw unavailable(
        "config",
        `a read-only sandbox path would expose secrets: ${conflict}`,
        "remove it from gateway.sandbox.readOnlyPaths",
      );
    }
    return { bwrap, user, who, readOnly, links: system.links };
  }
}

function unavailable(reason: string, problem: string, fix: string): GatewayError {
  return new GatewayError("SANDBOX_UNAVAILABLE", {
    message: `no sandbox for children: ${problem}. Fix: ${fix}`,
    details: { reason, fix },
  });
}
