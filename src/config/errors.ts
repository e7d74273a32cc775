/** Errors of the config layer; messages name the key and the file, never a secret's value. */

export type ConfigErrorCode =
  "CONFIG_INVALID" | "CONFIG_UNREADABLE" | "CONFIG_WRITE_FAILED" | "CONFIG_UNSAFE_BIND";

/** Exit status of the CLI for any configuration error (usage-style error, distinct from 1 = failure). */
export const CONFIG_EXIT_CODE = 2;

/** A configuration value, file or environment variable is wrong, unreadable or unwritable. */
export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  /** The offending key (`gateway.port`), environment variable (`GATEHOUSE_PORT`) or flag (`--port`). */
  readonly key?: string;
  /** The config file involved, when there is one. */
  readonly path?: string;
  readonly exitCode = CONFIG_EXIT_CODE;

  constructor(
    code: ConfigErrorCode,
    message: string,
    details: { key?: string; path?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "ConfigError";
    this.code = code;
    if (details.key !== undefined) this.key = details.key;
    if (details.path !== undefined) this.path = details.path;
  }
}

/** A `CONFIG_INVALID` error worded `key: problem`, plus the file when the value came from one. */
export function invalidValue(key: string, problem: string, path?: string): ConfigError {
  const where = path === undefined ? "" : ` in ${path}`;
  return new ConfigError("CONFIG_INVALID", `${key}: ${problem}${where}`, { key, path });
}
