/** Loads the effective configuration: state dir, config file, environment and flags. */
import { readEnvOverrides } from "./env.js";
import { readConfigFile } from "./file.js";
import { overlayFileConfig } from "./overlay.js";
import { checkOverrides, resolveGateway } from "./resolve.js";
import { resolveStateDir, statePaths } from "./state-dir.js";
import type { ConfigOverrides, ResolvedConfig } from "./types.js";
import { validateConfigFile, type GatewayFileConfig } from "./validate.js";

export interface LoadConfigOptions {
  /** `--state-dir`; wins over `GATEHOUSE_STATE_DIR`. */
  stateDir?: string;
  /** Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Command-line flags. */
  overrides?: ConfigOverrides;
  /** For tests: the home directory holding the default `~/.gatehouse`. */
  homedir?: string;
  /** An embedder's config, laid over the file (see `validateConfigOverlay`). */
  overlay?: GatewayFileConfig;
}

/** Reads and validates everything; throws {@link ConfigError} (exit code 2) and writes nothing. */
export function loadConfig(opts: LoadConfigOptions = {}): ResolvedConfig {
  const env = opts.env ?? process.env;
  const stateDir = resolveStateDir({ flag: opts.stateDir, env, homedir: opts.homedir });
  const { configPath } = statePaths(stateDir);
  // Flags and env first: a typo on the command line is reported even when the file is also wrong.
  const flags = checkOverrides(opts.overrides);
  const envOverrides = readEnvOverrides(env);
  const data = readConfigFile(configPath);
  const file = overlayFileConfig(validateConfigFile(data, configPath), opts.overlay);
  const { gateway, sources } = resolveGateway(file, envOverrides, flags, configPath);
  return { stateDir, configPath, fileExists: data !== undefined, gateway, sources };
}
