/**
 * Which handshake rejections stop automatic reconnects. Retrying these cannot succeed until a human
 * acts (fix credentials, approve pairing, upgrade), and hammering would trip the rate limiter.
 */
import type { GatewayClientError } from "./errors.js";

const PAUSE_DETAIL_CODES: ReadonlySet<string> = new Set([
  "AUTH_TOKEN_MISSING",
  "AUTH_TOKEN_MISMATCH",
  "AUTH_PASSWORD_MISSING",
  "AUTH_PASSWORD_MISMATCH",
  "AUTH_RATE_LIMITED",
  "AUTH_BOOTSTRAP_TOKEN_INVALID",
  "AUTH_DEVICE_TOKEN_MISMATCH",
  "AUTH_SCOPE_MISMATCH",
  "PAIRING_REQUIRED",
  "DEVICE_IDENTITY_REQUIRED",
  "PROTOCOL_MISMATCH",
]);

/** True when reconnecting after `err` should stop until the caller intervenes. */
export function shouldPauseReconnect(err: GatewayClientError): boolean {
  if (err.code === "INSECURE_URL" || err.code === "INVALID_OPTIONS" || err.code === "TOKEN_STORE_FAILED") {
    return true;
  }
  if (!err.detailCode || !PAUSE_DETAIL_CODES.has(err.detailCode)) return false;
  // Bootstrap / verify flows ask the client to keep trying while approval is pending.
  if (err.detailCode === "PAIRING_REQUIRED" && err.details?.pauseReconnect === false) return false;
  return true;
}
