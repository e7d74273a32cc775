/**
 * Is the gateway of a state dir running, and which process is it? Two sources, both checked
 * against the process table: `<state>/gateway.pid`, written by `gatehouse gateway start`, and the
 * store's gateway lock, held by any running gateway (also one started in the foreground or by
 * systemd). A pid that no longer belongs to a gatehouse gateway for this state dir is stale.
 */
import { join } from "node:path";
import {
  bindHosts,
  loadConfig,
  readGatewayEndpoint,
  statePaths,
  type ResolvedConfig,
} from "../../config/index.js";
import { readGatewayLock } from "../../store/index.js";
import { readPidFile, type PidRecord } from "./pid-file.js";
import { flagValue, isAlive, matchGatewayProcess } from "./process.js";

/** Files the lifecycle commands keep in the state dir. */
export interface LifecyclePaths {
  stateDir: string;
  pidFile: string;
  logDir: string;
  logFile: string;
  storeFile: string;
}

export function lifecyclePaths(stateDir: string): LifecyclePaths {
  const logDir = join(stateDir, "logs");
  return {
    stateDir,
    pidFile: join(stateDir, "gateway.pid"),
    logDir,
    logFile: join(logDir, "gateway.log"),
    storeFile: join(statePaths(stateDir).stateDbDir, "gatehouse.sqlite"),
  };
}

export type GatewayState =
  | {
      running: true;
      pid: number;
      /** When the process started serving (pid file or lock), if known. */
      startedAtMs: number | null;
      /** `start`: launched by `gatehouse gateway start`; `other`: foreground, systemd, ... */
      launchedBy: "start" | "other";
      /** The pid file's record when it names this process. */
      record: PidRecord | null;
      /** The arguments after `gateway run` on the process's command line. */
      args: string[];
      /** Whether the command line names the state dir. */
      namesStateDir: boolean;
    }
  | {
      running: false;
      /** A pid file whose process is gone or is not our gateway (safe to remove). */
      stalePidFile: PidRecord | null;
      /** Why the pid file is stale: its pid is dead, or alive but another program. */
      staleReason?: "dead" | "not-a-gateway";
      /** A live process holding the store lock that is not a gateway (e.g. `devices` working offline). */
      lockHolder: { pid: number } | null;
    };

/** Looks at the pid file and the lock; never signals anything. */
export function inspectGateway(stateDir: string): GatewayState {
  const paths = lifecyclePaths(stateDir);
  const record = readPidFile(paths.pidFile);
  if (record) {
    const match = matchGatewayProcess(record.pid, stateDir);
    // Everything `start` launches names its state dir; a pid that does not is someone else's.
    if (match?.namesStateDir) {
      const lock = readGatewayLock(stateDir);
      return {
        running: true,
        pid: record.pid,
        startedAtMs: lock?.pid === record.pid ? lock.startedAtMs : record.startedAtMs,
        launchedBy: "start",
        record,
        args: match.args,
        namesStateDir: true,
      };
    }
  }
  const lock = readGatewayLock(stateDir);
  let lockHolder: { pid: number } | null = null;
  if (lock && lock.pid !== record?.pid) {
    const match = matchGatewayProcess(lock.pid, stateDir);
    if (match) {
      return {
        running: true,
        pid: lock.pid,
        startedAtMs: lock.startedAtMs,
        launchedBy: "other",
        record: null,
        args: match.args,
        namesStateDir: match.namesStateDir,
      };
    }
    if (lock.alive && isAlive(lock.pid)) lockHolder = { pid: lock.pid };
  }
  return {
    running: false,
    stalePidFile: record,
    ...(record ? { staleReason: isAlive(record.pid) ? "not-a-gateway" : "dead" } : {}),
    lockHolder,
  };
}

/** `ws://host:port` (`wss://` with TLS) a client on this host dials for these listen hosts. */
export function localUrlFor(hosts: readonly string[], port: number, secure = false): string {
  const host = hosts.some((h) => h === "127.0.0.1" || h === "0.0.0.0")
    ? "127.0.0.1"
    : hosts.some((h) => h === "::1" || h === "::")
      ? "::1"
      : (hosts[0] ?? "127.0.0.1");
  return `${secure ? "wss" : "ws"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * The configuration a `gateway run` with these arguments resolves (file, env, flags), used to
 * find a gateway's address when no pid file recorded it. Throws ConfigError like `gateway run`.
 */
export function configForRunArgs(stateDir: string, args: readonly string[]): ResolvedConfig {
  const port = flagValue(args, "--port");
  const bind = flagValue(args, "--bind");
  const host = flagValue(args, "--host");
  return loadConfig({
    stateDir,
    overrides: {
      ...(port !== undefined && { port }),
      ...(bind !== undefined && { bind }),
      ...(host !== undefined && { host }),
    },
  });
}

/**
 * A running gateway's local URL: the pid file's, else the endpoint it records itself, else worked
 * out from its flags and the config.
 */
export function gatewayUrl(state: GatewayState & { running: true }, stateDir: string): string | null {
  if (state.record?.url) return state.record.url;
  const endpoint = readGatewayEndpoint(stateDir);
  if (endpoint?.pid === state.pid) return endpoint.url;
  try {
    const config = configForRunArgs(stateDir, state.args);
    return localUrlFor(bindHosts(config.gateway), config.gateway.port, config.gateway.tls.enabled);
  } catch {
    return null;
  }
}
