/**
 * What `gatehouse doctor` works with: the facts it gathered (files, config, store, live gateway)
 * and the findings its checks return. Checks are pure functions from facts to findings; only
 * `facts.ts` gathers and only `repair.ts` changes anything.
 */
import type { GatewayRole } from "../protocol/client-info.js";
import type { ResolvedConfig } from "../config/index.js";
import type { DeviceRecord, PendingRecord } from "../store/index.js";

export type Severity = "error" | "warn" | "info";

/** A safe repair `--fix` may apply; anything else is only described in `fix`. */
export type Repair =
  /** chmod `path` (and, for the store, its -wal/-shm files) to `mode`. */
  | { kind: "chmod"; path: string; mode: number; siblings?: string[] }
  /** Delete pending requests past their expiry. */
  | { kind: "prune-expired-pending"; storePath: string }
  /** Generate a token into the config file (token mode, none set anywhere). */
  | { kind: "generate-token"; configPath: string };

/** One problem, or one thing worth knowing. */
export interface Finding {
  /** Stable id of what was found (e.g. `file-permissions`, `auth-token-weak`). */
  id: string;
  severity: Severity;
  /** What is wrong, in one or two sentences. */
  message: string;
  /** What to do about it: a command or an edit. */
  fix: string;
  /** The path, config key or device it is about. */
  subject?: string;
  /** Present when `--fix` may repair it safely. */
  repair?: Repair;
}

/** A file or directory of the state dir and its mode (null when it does not exist). */
export interface FileFact {
  path: string;
  kind: "dir" | "file";
  /** Permission bits, or null when absent. */
  mode: number | null;
  /** The mode it should have. */
  expected: number;
  /** What it holds, for messages ("the shared token", "the owner's private key"). */
  holds: string;
  /** Files that share its mode and are fixed with it (the store's -wal and -shm). */
  siblings?: Array<{ path: string; mode: number }>;
}

/** The configuration as loaded, or why it could not be. */
export type ConfigFacts =
  | {
      ok: true;
      config: ResolvedConfig;
      /** `gateway.auth.token` as written in the file (to compare with the environment's, S14). */
      fileToken: string | undefined;
    }
  | { ok: false; path: string; code: string; message: string };

/** The pairing store, opened read-only. */
export type StoreFacts =
  | { state: "missing"; path: string }
  | { state: "unusable"; path: string; code: string; message: string }
  | {
      state: "ok";
      path: string;
      integrity: string[];
      devices: DeviceRecord[];
      expiredPending: PendingRecord[];
      ownerDeviceId: string | null;
    };

/** A connected client as the `status` RPC lists it. */
export interface LiveClient {
  connId: string;
  role: GatewayRole;
  client: string;
  deviceId: string | null;
}

/** Token state per device and role, as `device.pair.list` reports it. */
export interface LiveToken {
  deviceId: string;
  role: GatewayRole;
  revokedAtMs: number | null;
}

/** The live gateway. */
export type GatewayFacts =
  | { state: "not-running" }
  | { state: "skipped"; reason: string }
  | { state: "unreachable"; pid: number | null; error: string }
  | {
      state: "answering";
      url: string;
      version: string;
      clients: LiveClient[];
      tokens: LiveToken[];
    };

/**
 * The sandbox children would run in, as a probe started exactly like a child found it (a probe
 * that must not see the state dir, the config file or the TLS key).
 */
export type SandboxFacts =
  | { state: "skipped"; reason: string }
  /** `gateway.sandbox.mode: "none"`. */
  | { state: "off"; configPath: string }
  | { state: "ready"; bwrap: string; user: string | null; hidden: string[] }
  /** `reason`: bwrap-missing, bwrap-failed, probe-leak, user, config, setup-failed. */
  | { state: "unavailable"; reason: string; message: string; fix: string; configPath: string };

/** Everything the checks look at. */
export interface DoctorFacts {
  stateDir: string;
  nowMs: number;
  files: FileFact[];
  config: ConfigFacts;
  store: StoreFacts;
  gateway: GatewayFacts;
  sandbox: SandboxFacts;
}

/** A check: a stable id and a pure function; `skipped` says why it could not run. */
export interface Check {
  id: string;
  title: string;
  run(facts: DoctorFacts): Finding[] | { skipped: string };
}

/** A check's outcome as `--json` lists it. */
export interface CheckStatus {
  id: string;
  status: "pass" | "problem" | "skipped";
  note?: string;
}

/** What a repair did. */
export interface AppliedRepair {
  id: string;
  subject?: string;
  action: string;
  ok: boolean;
  error?: string;
}
