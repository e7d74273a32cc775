/**
 * The client layer's one error class. Server failures keep the gateway's wire code and detail code
 * so callers can branch on them (and show the requestId to approve) without parsing messages.
 */
import type { ErrorShape } from "../protocol/errors.js";
import { isRecord } from "../protocol/json.js";

/**
 * Closed set of ways a client call can fail. `HANDSHAKE_REJECTED` and `REQUEST_FAILED` carry the
 * gateway's wire code and detail code (`detailCode`: `PAIRING_REQUIRED`, `MISSING_SCOPE`, ...).
 *
 * @example
 * ```ts
 * import { GatewayClientError, type ClientErrorCode } from "gatehouse-gateway/client";
 *
 * const retryable: ClientErrorCode[] = ["CONNECT_FAILED", "CHALLENGE_TIMEOUT", "CONNECTION_CLOSED"];
 * const err = new GatewayClientError("CONNECT_FAILED", "connection refused");
 * console.log(retryable.includes(err.code)); // true
 * ```
 */
export type ClientErrorCode =
  | "INVALID_OPTIONS"
  | "INSECURE_URL"
  | "TLS_FINGERPRINT_MISMATCH"
  | "TLS_UNTRUSTED"
  | "CONNECT_FAILED"
  | "CHALLENGE_TIMEOUT"
  | "HANDSHAKE_REJECTED"
  | "REQUEST_FAILED"
  | "REQUEST_TIMEOUT"
  | "CONNECTION_CLOSED"
  | "CLIENT_CLOSED"
  | "INVALID_RESPONSE"
  | "TOKEN_STORE_FAILED";

export interface GatewayClientErrorInit {
  wireCode?: string;
  detailCode?: string;
  reason?: string;
  requestId?: string;
  details?: Record<string, unknown>;
  retryable?: boolean;
  retryAfterMs?: number;
  closeCode?: number;
  closeReason?: string;
  cause?: unknown;
}

/**
 * The client's one error class. Server refusals keep the gateway's `wireCode` and `detailCode`, and
 * a pending pairing its `requestId`, so callers branch without parsing messages. Messages and fields
 * never carry credentials.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { createGateway } from "gatehouse-gateway";
 * import { GatewayClient, GatewayClientError } from "gatehouse-gateway/client";
 *
 * const gateway = await createGateway({
 *   stateDir: mkdtempSync(join(tmpdir(), "gatehouse-")),
 *   config: { gateway: { port: 0, auth: { token: "a-long-random-secret" } } },
 * });
 * const client = new GatewayClient({ url: gateway.url, auth: { token: "wrong" } });
 * try {
 *   await client.connect();
 * } catch (err) {
 *   if (!(err instanceof GatewayClientError)) throw err;
 *   console.log(err.code, err.detailCode); // HANDSHAKE_REJECTED AUTH_TOKEN_MISMATCH
 * }
 * await client.close();
 * await gateway.close();
 * ```
 */
export class GatewayClientError extends Error {
  readonly code: ClientErrorCode;
  readonly wireCode: string | undefined;
  readonly detailCode: string | undefined;
  readonly reason: string | undefined;
  readonly requestId: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly retryable: boolean | undefined;
  readonly retryAfterMs: number | undefined;
  closeCode: number | undefined;
  closeReason: string | undefined;

  constructor(code: ClientErrorCode, message: string, init: GatewayClientErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "GatewayClientError";
    this.code = code;
    this.wireCode = init.wireCode;
    this.detailCode = init.detailCode;
    this.reason = init.reason;
    this.requestId = init.requestId;
    this.details = init.details;
    this.retryable = init.retryable;
    this.retryAfterMs = init.retryAfterMs;
    this.closeCode = init.closeCode;
    this.closeReason = init.closeReason;
  }
}

/** Lifts a wire `ErrorShape` into a client error, pulling the structured fields out of `details`. */
export function errorFromShape(
  code: "HANDSHAKE_REJECTED" | "REQUEST_FAILED",
  shape:
    | ErrorShape
    | { code: string; message: string; details?: unknown; retryable?: boolean; retryAfterMs?: number },
): GatewayClientError {
  const details = isRecord(shape.details) ? shape.details : undefined;
  const str = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : undefined);
  return new GatewayClientError(code, shape.message, {
    wireCode: shape.code,
    detailCode: str(details?.code),
    reason: str(details?.reason),
    requestId: str(details?.requestId),
    details,
    retryable: shape.retryable,
    retryAfterMs: shape.retryAfterMs,
  });
}

/** Any thrown value as a client error, so listeners see one type. */
export function asClientError(
  err: unknown,
  fallback: ClientErrorCode = "CONNECT_FAILED",
): GatewayClientError {
  if (err instanceof GatewayClientError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new GatewayClientError(fallback, message, { cause: err });
}
