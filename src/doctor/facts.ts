/**
 * Gathers what the checks look at from the state dir: file modes, the config, and the pairing
 * store opened read-only (so a damaged store is never written). Reads only.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig, secretPaths, statePaths, validateConfigFile } from "../config/index.js";
import { readConfigFile } from "../config/file.js";
import { loadIdentity } from "../identity/index.js";
import { GatewayError } from "../protocol/errors.js";
import { createSandbox } from "../runtime/sandbox-launcher.js";
import { openStore, StoreError } from "../store/index.js";
import type { ConfigFacts, FileFact, SandboxFacts, StoreFacts } from "./types.js";

/** The store file inside a state dir. */
export function storePath(stateDir: string): string {
  return join(statePaths(stateDir).stateDbDir, "gatehouse.sqlite");
}

function modeOf(path: string): number | null {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return null;
  }
}

/** The state dir's private parts and their modes. */
export function gatherFiles(stateDir: string): FileFact[] {
  const p = statePaths(stateDir);
  const db = storePath(stateDir);
  const dir = (path: string, holds: string): FileFact => ({
    path,
    kind: "dir",
    mode: modeOf(path),
    expected: 0o700,
    holds,
  });
  const file = (path: string, holds: string): FileFact => ({
    path,
    kind: "file",
    mode: modeOf(path),
    expected: 0o600,
    holds,
  });
  const siblings = [`${db}-wal`, `${db}-shm`]
    .map((path) => ({ path, mode: modeOf(path) }))
    .filter((s): s is { path: string; mode: number } => s.mode !== null);
  return [
    dir(stateDir, "the config, the owner identity and the pairing store"),
    file(p.configPath, "the shared gateway secret"),
    dir(p.identityDir, "the owner's private key"),
    file(join(p.identityDir, "device.json"), "the owner's private key"),
    file(join(p.identityDir, "device-auth.json"), "this CLI's device tokens"),
    dir(join(stateDir, "tls"), "the gateway's TLS private key"),
    file(join(stateDir, "tls", "gateway-key.pem"), "the gateway's TLS private key"),
    dir(p.stateDbDir, "the pairing store"),
    { ...file(db, "the pairing store (approvals, hashed device tokens, audit log)"), siblings },
  ];
}

/** The configuration as the gateway would load it (environment included). */
export function gatherConfig(stateDir: string, env: NodeJS.ProcessEnv = process.env): ConfigFacts {
  const { configPath } = statePaths(stateDir);
  try {
    const config = loadConfig({ stateDir, env });
    let fileToken: string | undefined;
    try {
      fileToken = validateConfigFile(readConfigFile(configPath), configPath).auth?.token;
    } catch {
      fileToken = undefined;
    }
    return { ok: true, config, fileToken };
  } catch (err) {
    if (err instanceof ConfigError) {
      return { ok: false, path: err.path ?? configPath, code: err.code, message: err.message };
    }
    throw err;
  }
}

/** The store's state, read-only: a damaged or foreign file is reported, never opened for writing. */
export function gatherStore(stateDir: string, nowMs: number): StoreFacts {
  const path = storePath(stateDir);
  if (!existsSync(path)) return { state: "missing", path };
  let store;
  try {
    store = openStore(path, { readonly: true });
    const integrity = store.integrityCheck();
    const ok = integrity.length === 1 && integrity[0] === "ok";
    return {
      state: "ok",
      path,
      integrity,
      devices: ok ? store.devices.list() : [],
      expiredPending: ok ? store.pending.listExpired(nowMs) : [],
      ownerDeviceId: ownerId(stateDir),
    };
  } catch (err) {
    if (err instanceof StoreError) return { state: "unusable", path, code: err.code, message: err.message };
    const message = err instanceof Error ? err.message : String(err);
    return { state: "unusable", path, code: "STORE_UNREADABLE", message: `cannot read ${path}: ${message}` };
  } finally {
    store?.close();
  }
}

/**
 * Probes the sandbox the gateway would start children in, with this config's settings and secret
 * paths. As root with no `gateway.sandbox.user`, this creates the system user `gatehouse-sandbox`
 * on first use, as the gateway would.
 */
export async function gatherSandbox(config: ConfigFacts, searchPath?: string): Promise<SandboxFacts> {
  if (!config.ok) return { state: "skipped", reason: "the config file is invalid" };
  const { gateway, configPath } = config.config;
  if (gateway.sandbox.mode === "none") return { state: "off", configPath };
  const hidden = secretPaths(config.config);
  const sandbox = createSandbox({
    ...gateway.sandbox,
    secretPaths: hidden,
    ...(searchPath !== undefined ? { searchPath } : {}),
  });
  try {
    await sandbox.ready();
    const s = sandbox.status();
    return { state: "ready", bwrap: s.bwrap ?? "bwrap", user: s.user, hidden: hidden.filter(existsSync) };
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    const d = err.details as { reason?: string; fix?: string };
    return {
      state: "unavailable",
      reason: d.reason ?? "setup-failed",
      message: err.message,
      fix: d.fix ?? "",
      configPath,
    };
  }
}

function ownerId(stateDir: string): string | null {
  const path = join(statePaths(stateDir).identityDir, "device.json");
  if (!existsSync(path)) return null;
  try {
    return loadIdentity(path).deviceId;
  } catch {
    return null;
  }
}
