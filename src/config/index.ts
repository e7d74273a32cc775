/** Configuration of the gateway and of its CLI clients: state dir, file, env, flags, validation. */
export * from "./types.js";
export { CONFIG_EXIT_CODE, ConfigError, type ConfigErrorCode } from "./errors.js";
export { CONFIG_FILE_NAME, resolveStateDir, statePaths, type StatePaths } from "./state-dir.js";
export { ENV } from "./env.js";
export { validateConfigFile, type GatewayFileConfig } from "./validate.js";
export { loadConfig, type LoadConfigOptions } from "./load.js";
export { overlayFileConfig, validateConfigOverlay } from "./overlay.js";
export { assertSafeBind, bindHosts, isExposedBind } from "./bind.js";
export { ensureGatewayToken, generateGatewayToken, type EnsuredToken } from "./token.js";
export { createAuthResolver, type AuthResolverOptions } from "./auth-resolver.js";
export { REDACTED, redactConfig } from "./redact.js";
export { secretPaths } from "./secret-paths.js";
export { resolveClientTarget, type ClientTarget, type ClientTargetOptions } from "./client.js";
export * from "./endpoint.js";
export * from "./remembered-gateway.js";
