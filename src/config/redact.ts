/** Copies of the configuration that are safe to print, log or return from `describe`. */
import type { GatewaySettings } from "./types.js";

export const REDACTED = "<redacted>";

/** Returns a deep copy with `gateway.auth.token` and `.password` replaced by "<redacted>" when set. */
export function redactConfig<T extends { gateway: GatewaySettings }>(config: T): T {
  const copy = structuredClone(config);
  const { auth } = copy.gateway;
  if (auth.token !== undefined) auth.token = REDACTED;
  if (auth.password !== undefined) auth.password = REDACTED;
  return copy;
}
