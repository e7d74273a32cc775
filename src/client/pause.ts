/**
 * Which handshake rejections stop automatic reconnects: the error table's `retry` column. Retrying
 * these cannot succeed until a human acts (fix credentials, approve pairing, upgrade) or the rate
 * limiter's wait is over, and hammering would only trip the limiter again.
 */
import { errorMeaning, isGatewayErrorCode } from "../protocol/errors.js";
import type { GatewayClientError } from "./errors.js";

/** True when reconnecting after `err` should stop until the caller intervenes. */
export function shouldPauseReconnect(err: GatewayClientError): boolean {
  if (err.code === "INSECURE_URL" || err.code === "INVALID_OPTIONS" || err.code === "TOKEN_STORE_FAILED") {
    return true;
  }
  if (!err.detailCode || !isGatewayErrorCode(err.detailCode)) return false;
  const { retry } = errorMeaning(err.detailCode);
  if (retry !== "pause" && retry !== "wait") return false;
  // Bootstrap / verify flows ask the client to keep trying while approval is pending.
  if (err.detailCode === "PAIRING_REQUIRED" && err.details?.pauseReconnect === false) return false;
  return true;
}
