/**
 * Shared secrets looked up per connection, so an operator can rotate `gateway.auth.token` in the
 * file while the gateway runs. A stat per call; the file is re-read only when it changed.
 */
import { statSync } from "node:fs";
import { readEnvOverrides } from "./env.js";
import { ConfigError } from "./errors.js";
import { readConfigFile } from "./file.js";
import { overlayFileConfig } from "./overlay.js";
import { checkOverrides, resolveGateway } from "./resolve.js";
import type { AuthSettings, ConfigOverrides, ResolvedConfig } from "./types.js";
import { validateConfigFile, type GatewayFileConfig } from "./validate.js";

export interface AuthResolverOptions {
  /** The config loaded at start (after {@link ensureGatewayToken}); its auth is the first good value. */
  config: Pick<ResolvedConfig, "configPath" | "gateway">;
  /** The same env and flags the gateway started with; they stay on top of the file. */
  env?: NodeJS.ProcessEnv;
  overrides?: ConfigOverrides;
  /** The embedder's config the gateway started with; it stays on top of the file too. */
  overlay?: GatewayFileConfig;
  /** Told once per bad version of the file; the previous settings stay in force meanwhile. */
  onError?: (error: ConfigError) => void;
}

/** Returns a function giving the current auth settings (frozen; do not keep them across connections). */
export function createAuthResolver(opts: AuthResolverOptions): () => AuthSettings {
  const path = opts.config.configPath;
  // Env and flags cannot change while we run, so they are validated once.
  const env = readEnvOverrides(opts.env ?? process.env);
  const flags = checkOverrides(opts.overrides);
  let current: AuthSettings = Object.freeze({ ...opts.config.gateway.auth });
  // Unknown at first, so the first call reads the file even if it changed just before we started.
  let seen: string | undefined;

  return function resolveAuth(): AuthSettings {
    const signature = fileSignature(path);
    if (signature === seen) return current;
    seen = signature;
    try {
      const file = overlayFileConfig(validateConfigFile(readConfigFile(path), path), opts.overlay);
      const { auth } = resolveGateway(file, env, flags, path).gateway;
      if (auth.mode === "token" && auth.token === undefined) {
        throw new ConfigError(
          "CONFIG_INVALID",
          `gateway.auth.token: missing in ${path}; keeping the token in use until it is set again or the gateway restarts`,
          { key: "gateway.auth.token", path },
        );
      }
      current = Object.freeze(auth);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      opts.onError?.(err);
    }
    return current;
  };
}

// Inode catches rename-based writes; ctime catches in-place writes even when mtime was reset.
// A missing file (a gateway run on flags alone) is answered without an exception: building one,
// stack trace and all, twice per connection was 9 % of a device-less handshake's CPU time.
function fileSignature(path: string): string {
  try {
    const st = statSync(path, { bigint: true, throwIfNoEntry: false });
    return st ? `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : "missing:ENOENT";
  } catch (err) {
    return `missing:${(err as NodeJS.ErrnoException).code ?? "?"}`;
  }
}
