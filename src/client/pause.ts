/**
 * Which handshake rejections stop automatic reconnects: the error table's `retry` column. Retrying
 * these cannot succeed until a human acts (fix credentials, approve pairing, upgrade) or the rate
 * limiter's wait is over, and hammering would only trip the limiter again.
 */
import type * as ErrorTable from "../protocol/errors.js";
import type { GatewayClientError } from "./errors.js";

let errorTable: typeof ErrorTable | undefined;
/**
 * The gateway's error table (20 KB of source), loaded when a connect first fails: a call-back that
 * succeeds never reads it, and parsing it was about 8 M instructions of every call-back
 * (bench/README.md). By getBuiltinModule and require, as a sync caller needs it.
 */
function table(): typeof ErrorTable {
  return (errorTable ??= process.getBuiltinModule("node:module").createRequire(import.meta.url)(
    "../protocol/errors.js",
  ) as typeof ErrorTable);
}

/** True when reconnecting after `err` should stop until the caller intervenes. */
export function shouldPauseReconnect(err: GatewayClientError): boolean {
  if (err.code === "INSECURE_URL" || err.code === "INVALID_OPTIONS" || err.code === "TOKEN_STORE_FAILED") {
    return true;
  }
  if (!err.detailCode || !table().isGatewayErrorCode(err.detailCode)) return false;
  const { retry } = table().errorMeaning(err.detailCode);
  if (retry !== "pause" && retry !== "wait") return false;
  // Bootstrap / verify flows ask the client to keep trying while approval is pending.
  if (err.detailCode === "PAIRING_REQUIRED" && err.details?.pauseReconnect === false) return false;
  return true;
}
