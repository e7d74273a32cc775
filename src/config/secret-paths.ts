/** Where a gateway's secrets live: the paths its sandboxed children must never see. */
import { homedir as osHomedir } from "node:os";
import { join, resolve } from "node:path";
import type { ResolvedConfig } from "./types.js";

/**
 * The state dir (owner key, store, device tokens, pid and log files), the config file (the shared
 * secret; it may be a symlink to elsewhere), the TLS certificate and key wherever they are
 * configured, and the default state dirs of this user (Gatehouse's and OpenClaw's), which hold
 * owner keys and tokens of their own.
 */
export function secretPaths(config: ResolvedConfig, homedir: string = osHomedir()): string[] {
  const paths = [config.stateDir, config.configPath];
  const { certPath, keyPath } = config.gateway.tls;
  for (const p of [certPath, keyPath]) if (p !== undefined) paths.push(resolve(config.stateDir, p));
  paths.push(join(homedir, ".gatehouse"), join(homedir, ".openclaw"));
  return [...new Set(paths)];
}
