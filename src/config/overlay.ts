/**
 * An embedder's configuration (createGateway's `config`): the shape of gatehouse.json, validated
 * by the same rules, and laid over the file key by key without ever being written to it.
 */
import { ConfigError } from "./errors.js";
import { checkPort, validateConfigFile, type GatewayFileConfig } from "./validate.js";

/** How messages name where a bad value came from. */
export const OVERLAY_SOURCE = "createGateway({ config })";

/**
 * Validates an embedder's config object; errors name the key, as for the file. Unlike the file it
 * may set `gateway.port` to 0 (a free port, as `--port 0` does).
 */
export function validateConfigOverlay(data: unknown): GatewayFileConfig {
  if (data === undefined) return {};
  if (!isObject(data)) {
    throw new ConfigError(
      "CONFIG_INVALID",
      `${OVERLAY_SOURCE}: config must be an object like gatehouse.json`,
    );
  }
  const gateway = data.gateway;
  if (!isObject(gateway) || gateway.port === undefined) return validateConfigFile(data, OVERLAY_SOURCE);
  const { port, ...rest } = gateway;
  return {
    ...validateConfigFile({ ...data, gateway: rest }, OVERLAY_SOURCE),
    port: checkPort(port, "gateway.port", { allowZero: true, path: OVERLAY_SOURCE }),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `file` with every key `overlay` sets replaced; nested sections merge, lists are replaced whole. */
export function overlayFileConfig(
  file: GatewayFileConfig,
  overlay: GatewayFileConfig | undefined,
): GatewayFileConfig {
  if (!overlay) return file;
  const out: GatewayFileConfig = { ...file, ...overlay };
  for (const section of ["auth", "controlUi", "pairing", "limits", "tls"] as const) {
    if (file[section] && overlay[section])
      Object.assign(out, { [section]: { ...file[section], ...overlay[section] } });
  }
  return out;
}
