/** Closed lists of client ids and client modes (reference §2). */

export const GATEWAY_CLIENT_IDS = [
  "webchat-ui",
  "openclaw-control-ui",
  "openclaw-browser-copilot",
  "openclaw-tui",
  "webchat",
  "cli",
  "gateway-client",
  "openclaw-macos",
  "openclaw-linux",
  "openclaw-ios",
  "openclaw-watchos",
  "openclaw-android",
  "node-host",
  "openclaw-worker",
  "test",
  "fingerprint",
  "openclaw-probe",
] as const;
export type GatewayClientId = (typeof GATEWAY_CLIENT_IDS)[number];

export const GATEWAY_CLIENT_MODES = [
  "webchat",
  "cli",
  "ui",
  "backend",
  "node",
  "worker",
  "probe",
  "test",
] as const;
export type GatewayClientMode = (typeof GATEWAY_CLIENT_MODES)[number];

/**
 * The roles a connection can have: `operator` (people and programs that manage or use the
 * gateway) and `node` (hosts that run commands for it).
 *
 * @example
 * ```ts
 * import { GATEWAY_ROLES } from "gatehouse-gateway/protocol";
 *
 * console.log(GATEWAY_ROLES); // [ 'operator', 'node' ]
 * ```
 */
export const GATEWAY_ROLES = ["operator", "node"] as const;
/**
 * One of {@link GATEWAY_ROLES}.
 *
 * @example
 * ```ts
 * import { GATEWAY_ROLES, type GatewayRole } from "gatehouse-gateway/protocol";
 *
 * const isRole = (s: string): s is GatewayRole => (GATEWAY_ROLES as readonly string[]).includes(s);
 * console.log(isRole("node"), isRole("admin")); // true false
 * ```
 */
export type GatewayRole = (typeof GATEWAY_ROLES)[number];

const idSet: ReadonlySet<string> = new Set(GATEWAY_CLIENT_IDS);
const modeSet: ReadonlySet<string> = new Set(GATEWAY_CLIENT_MODES);
const roleSet: ReadonlySet<string> = new Set(GATEWAY_ROLES);

/** Client ids are case-insensitive on input; this returns the canonical lowercase id or null. */
export function normalizeClientId(raw: string): GatewayClientId | null {
  const id = raw.trim().toLowerCase();
  return idSet.has(id) ? (id as GatewayClientId) : null;
}

/** True when `mode` is one of the closed client modes. */
export function isClientMode(mode: string): mode is GatewayClientMode {
  return modeSet.has(mode);
}

/** True when `role` is a role this gateway accepts. */
export function isGatewayRole(role: string): role is GatewayRole {
  return roleSet.has(role);
}

/** Browser operator UIs: the Control UI and webchat surfaces. */
export function isBrowserUiClient(id: string, mode: string): boolean {
  return id === "openclaw-control-ui" || id === "webchat-ui" || id === "webchat" || mode === "webchat";
}
