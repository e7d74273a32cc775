/**
 * How a WebSocket fails a connection the peer broke: for the client, a refused or malformed
 * upgrade; for either side, a frame RFC 6455 forbids. Each code carries the close code sent for it.
 * The client exports this class (`gatehouse-gateway/client`); the gateway's server socket reads
 * frames with the same reader and closes with the same codes.
 */

/**
 * Closed set of transport failures: the upgrade was answered with something other than 101
 * (`UPGRADE_REFUSED`) or with a 101 that is not a valid WebSocket accept (`UPGRADE_INVALID`); after
 * the upgrade, a frame broke the protocol (`PROTOCOL_ERROR`), a text message or close reason was
 * not UTF-8 (`INVALID_UTF8`), or a message exceeded the reader's limit (`MESSAGE_TOO_BIG`).
 *
 * @example
 * ```ts
 * import type { WebSocketErrorCode } from "gatehouse-gateway/client";
 *
 * const serverAtFault = (code: WebSocketErrorCode) => code !== "MESSAGE_TOO_BIG";
 * console.log(serverAtFault("PROTOCOL_ERROR")); // true
 * ```
 */
export type WebSocketErrorCode =
  "UPGRADE_REFUSED" | "UPGRADE_INVALID" | "PROTOCOL_ERROR" | "INVALID_UTF8" | "MESSAGE_TOO_BIG";

/** The close code (RFC 6455 §7.4.1) the client reports, and sends when a socket is open, per failure. */
const CLOSE_CODE: Readonly<Record<WebSocketErrorCode, number>> = {
  // No WebSocket exists yet: nothing is sent; the close is abnormal.
  UPGRADE_REFUSED: 1006,
  UPGRADE_INVALID: 1006,
  PROTOCOL_ERROR: 1002,
  INVALID_UTF8: 1007,
  MESSAGE_TOO_BIG: 1009,
};

/**
 * A gateway that broke the WebSocket protocol, as the client saw it. It reaches callers as the
 * `cause` of a {@link GatewayClientError}; the message says exactly what was wrong and never
 * carries payload bytes.
 *
 * @example
 * ```ts
 * import { GatewayClientError, WebSocketError } from "gatehouse-gateway/client";
 *
 * function brokenServer(err: unknown): string | null {
 *   const cause = err instanceof GatewayClientError ? err.cause : err;
 *   return cause instanceof WebSocketError ? cause.code : null;
 * }
 * console.log(brokenServer(new WebSocketError("PROTOCOL_ERROR", "invalid opcode 3"))); // PROTOCOL_ERROR
 * ```
 */
export class WebSocketError extends Error {
  /** The close code this failure reports (1002, 1007, 1009; 1006 before the upgrade completed). */
  readonly closeCode: number;
  /** The HTTP status of a refused upgrade. */
  readonly status: number | undefined;

  constructor(
    readonly code: WebSocketErrorCode,
    message: string,
    status?: number,
  ) {
    super(message);
    this.name = "WebSocketError";
    this.closeCode = CLOSE_CODE[code];
    this.status = status;
  }
}
