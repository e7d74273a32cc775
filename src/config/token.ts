/** First start: give a token-mode gateway a strong token and keep it in the config file. */
import { randomBytes } from "node:crypto";
import { readConfigFile, writeConfigFile } from "./file.js";
import type { ResolvedConfig } from "./types.js";
import { validateConfigFile } from "./validate.js";

export interface EnsuredToken {
  config: ResolvedConfig;
  /** True when this call created the token; the caller should tell the operator where it is. */
  generated: boolean;
  /** The file the new token was written to. */
  savedTo?: string;
}

/** A new shared secret: 32 random bytes, base64url (43 characters). */
export function generateGatewayToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * Makes sure token mode has a token: generates one and saves it as `gateway.auth.token`, keeping
 * every other key of the file. Writes nothing when a token is already set (file, env or flag) or
 * the mode is not "token"; never overwrites a file that is invalid now.
 */
export function ensureGatewayToken(config: ResolvedConfig): EnsuredToken {
  const { auth } = config.gateway;
  if (auth.mode !== "token" || auth.token !== undefined) return { config, generated: false };

  // Re-read rather than reuse what was loaded: the file may have changed since.
  const data = readConfigFile(config.configPath);
  const current = validateConfigFile(data, config.configPath);
  const existing = current.auth?.token;
  if (existing !== undefined) return { config: withFileToken(config, existing), generated: false };

  const token = generateGatewayToken();
  const root = (data ?? {}) as { gateway?: { auth?: Record<string, unknown> } };
  root.gateway ??= {};
  root.gateway.auth ??= {};
  root.gateway.auth.token = token;
  writeConfigFile(config.configPath, root);
  return { config: withFileToken(config, token), generated: true, savedTo: config.configPath };
}

function withFileToken(config: ResolvedConfig, token: string): ResolvedConfig {
  return {
    ...config,
    fileExists: true,
    gateway: { ...config.gateway, auth: { ...config.gateway.auth, token } },
    sources: { ...config.sources, "gateway.auth.token": "file" },
  };
}
