/** Which addresses the gateway listens on, and the rule that only loopback may go without auth. */
import { isLoopbackIp } from "../policy/ip.js";
import { ConfigError } from "./errors.js";
import type { GatewaySettings } from "./types.js";

/** The addresses to listen on for the configured bind mode. */
export function bindHosts(settings: Pick<GatewaySettings, "bind" | "customBindHost">): string[] {
  switch (settings.bind) {
    case "loopback":
      return ["127.0.0.1", "::1"];
    case "lan":
      return ["0.0.0.0"];
    case "custom":
      if (settings.customBindHost === undefined) {
        throw new ConfigError(
          "CONFIG_INVALID",
          'gateway.customBindHost: required when gateway.bind is "custom"',
          {
            key: "gateway.customBindHost",
          },
        );
      }
      return [settings.customBindHost];
  }
}

/** True when the gateway would be reachable from other machines. */
export function isExposedBind(settings: Pick<GatewaySettings, "bind" | "customBindHost">): boolean {
  return !bindHosts(settings).every((h) => isLoopbackIp(h));
}

/** Refuses to start a gateway reachable from the network with `auth.mode: "none"`. */
export function assertSafeBind(settings: Pick<GatewaySettings, "bind" | "customBindHost" | "auth">): void {
  if (settings.auth.mode !== "none" || !isExposedBind(settings)) return;
  const where = settings.bind === "custom" ? `"custom" (${settings.customBindHost})` : `"${settings.bind}"`;
  throw new ConfigError(
    "CONFIG_UNSAFE_BIND",
    `refusing to start: gateway.bind ${where} makes the gateway reachable from other machines, ` +
      `but gateway.auth.mode is "none". Set gateway.auth.mode to "token" or "password", ` +
      `or set gateway.bind to "loopback".`,
    { key: "gateway.auth.mode" },
  );
}
