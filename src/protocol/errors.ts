/**
 * Every error the gateway can send, in one table: our closed `code` union, the wire error code
 * (reference §1.9), the default message and the close code that follows it (reference §1.10).
 */

/**
 * Top-level `error.code` values of the wire protocol (reference §1.9); the precise reason is in
 * `error.details.code`.
 *
 * @example
 * ```ts
 * import { WIRE_ERROR_CODES } from "gatehouse-gateway/protocol";
 *
 * console.log(WIRE_ERROR_CODES.includes("NOT_PAIRED")); // true
 * ```
 */
export const WIRE_ERROR_CODES = [
  "NOT_LINKED",
  "NOT_PAIRED",
  "AGENT_TIMEOUT",
  "AGENT_RESULT_NOT_FOUND",
  "INVALID_REQUEST",
  "FORBIDDEN",
  "APPROVAL_NOT_FOUND",
  "UNAVAILABLE",
] as const;
/**
 * One of {@link WIRE_ERROR_CODES}.
 *
 * @example
 * ```ts
 * import type { WireErrorCode } from "gatehouse-gateway/protocol";
 *
 * const needsApproval = (code: WireErrorCode) => code === "NOT_PAIRED";
 * console.log(needsApproval("FORBIDDEN")); // false
 * ```
 */
export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

/**
 * WebSocket close codes the gateway uses: 1008 after a refused connect, 1012 when it restarts, 4001
 * when the connection's credentials changed (secret rotated, device removed, token revoked).
 *
 * @example
 * ```ts
 * import { CLOSE_CODES } from "gatehouse-gateway/protocol";
 *
 * const shouldRepair = (code: number) => code === CLOSE_CODES.credentialsChanged;
 * console.log(CLOSE_CODES.policy, shouldRepair(4001)); // 1008 true
 * ```
 */
export const CLOSE_CODES = {
  normal: 1000,
  protocolMismatch: 1002,
  policy: 1008,
  tooBig: 1009,
  serviceRestart: 1012,
  tryAgainLater: 1013,
  /** Shared secret rotated, or the device was removed / its token revoked. */
  credentialsChanged: 4001,
} as const;

interface ErrorRow {
  wire: WireErrorCode;
  message: string;
  /** Close code sent after the error; null keeps the connection open (method-level errors). */
  close: number | null;
  /** `details.reason` for device-proof failures (reference §1.9 table). */
  reason?: string;
}

const policy = CLOSE_CODES.policy;

/** The one table. Keys double as `error.details.code` on the wire. */
export const ERROR_TABLE = {
  // Frames and handshake shape.
  INVALID_FRAME: { wire: "INVALID_REQUEST", message: "invalid request frame", close: policy },
  HANDSHAKE_NOT_CONNECT: {
    wire: "INVALID_REQUEST",
    message: "invalid handshake: first request must be connect",
    close: policy,
  },
  INVALID_CONNECT_PARAMS: { wire: "INVALID_REQUEST", message: "invalid connect params", close: policy },
  PROTOCOL_MISMATCH: {
    wire: "INVALID_REQUEST",
    message: "protocol mismatch",
    close: CLOSE_CODES.protocolMismatch,
  },
  INVALID_ROLE: { wire: "INVALID_REQUEST", message: "invalid role", close: policy },
  CONTROL_UI_ORIGIN_NOT_ALLOWED: {
    wire: "INVALID_REQUEST",
    message:
      "origin not allowed (open the Control UI from the gateway host or allow it in gateway.controlUi.allowedOrigins)",
    close: policy,
  },
  // Device proof, in the order it is checked.
  DEVICE_AUTH_DEVICE_ID_MISMATCH: {
    wire: "INVALID_REQUEST",
    message: "device identity mismatch",
    close: policy,
    reason: "device-id-mismatch",
  },
  DEVICE_AUTH_SIGNATURE_EXPIRED: {
    wire: "INVALID_REQUEST",
    message: "device signature expired",
    close: policy,
    reason: "device-signature-stale",
  },
  DEVICE_AUTH_NONCE_REQUIRED: {
    wire: "INVALID_REQUEST",
    message: "device nonce required",
    close: policy,
    reason: "device-nonce-missing",
  },
  DEVICE_AUTH_NONCE_MISMATCH: {
    wire: "INVALID_REQUEST",
    message: "device nonce mismatch",
    close: policy,
    reason: "device-nonce-mismatch",
  },
  DEVICE_AUTH_SIGNATURE_INVALID: {
    wire: "INVALID_REQUEST",
    message: "device signature invalid",
    close: policy,
    reason: "device-signature",
  },
  DEVICE_AUTH_PUBLIC_KEY_INVALID: {
    wire: "INVALID_REQUEST",
    message: "device public key invalid",
    close: policy,
    reason: "device-public-key",
  },
  // Credentials.
  AUTH_REQUIRED: { wire: "INVALID_REQUEST", message: "unauthorized: credentials required", close: policy },
  AUTH_UNAUTHORIZED: { wire: "INVALID_REQUEST", message: "unauthorized", close: policy },
  // Trusted-proxy mode: the proxy's identity was not believed (the trace says which check).
  AUTH_IDENTITY_HEADER_REQUIRED: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: the trusted proxy did not send the identity headers this gateway requires",
    close: policy,
  },
  AUTH_TRUSTED_PROXY_UNTRUSTED_SOURCE: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: identity headers from an address that is not a trusted proxy",
    close: policy,
  },
  AUTH_TRUSTED_PROXY_ASSERTION_INVALID: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: the trusted proxy's signed assertion did not verify",
    close: policy,
  },
  AUTH_TRUSTED_PROXY_USER_NOT_ALLOWED: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: this user is not allowed on this gateway (gateway.auth.trustedProxy.allowUsers)",
    close: policy,
  },
  AUTH_RUNTIME_TOKEN_INVALID: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: runtime token invalid, expired or its job has ended",
    close: policy,
  },
  AUTH_TOKEN_MISSING: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: gateway token missing",
    close: policy,
  },
  AUTH_TOKEN_MISMATCH: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: gateway token mismatch",
    close: policy,
  },
  AUTH_TOKEN_NOT_CONFIGURED: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: gateway token not configured on gateway (set gateway.auth.token)",
    close: policy,
  },
  AUTH_PASSWORD_MISSING: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: gateway password missing",
    close: policy,
  },
  AUTH_PASSWORD_MISMATCH: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: gateway password mismatch",
    close: policy,
  },
  AUTH_PASSWORD_NOT_CONFIGURED: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: gateway password not configured on gateway (set gateway.auth.password)",
    close: policy,
  },
  AUTH_DEVICE_TOKEN_MISMATCH: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: device token mismatch (rotate/reissue device token)",
    close: policy,
  },
  AUTH_BOOTSTRAP_TOKEN_INVALID: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: setup code invalid, expired or already used",
    close: policy,
  },
  AUTH_SCOPE_MISMATCH: { wire: "INVALID_REQUEST", message: "unauthorized: scope mismatch", close: policy },
  AUTH_RATE_LIMITED: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: too many failed attempts",
    close: policy,
  },
  // Pairing.
  DEVICE_IDENTITY_REQUIRED: { wire: "NOT_PAIRED", message: "device identity required", close: policy },
  CONTROL_UI_DEVICE_IDENTITY_REQUIRED: {
    wire: "INVALID_REQUEST",
    message: "control ui requires device identity (use HTTPS or localhost secure context)",
    close: policy,
  },
  PAIRING_REQUIRED: { wire: "NOT_PAIRED", message: "pairing required", close: policy },
  // After hello: method dispatch. These keep the connection open.
  UNKNOWN_METHOD: { wire: "INVALID_REQUEST", message: "unknown method", close: null },
  INVALID_PARAMS: { wire: "INVALID_REQUEST", message: "invalid params", close: null },
  MISSING_SCOPE: { wire: "FORBIDDEN", message: "missing scope", close: null },
  ROLE_NOT_ALLOWED: { wire: "FORBIDDEN", message: "method not allowed for this role", close: null },
  FORBIDDEN_ACTION: { wire: "FORBIDDEN", message: "not allowed", close: null },
  // OpenClaw answers an unapproved node command with INVALID_REQUEST "node command not allowed: …".
  NODE_COMMAND_NOT_APPROVED: {
    wire: "INVALID_REQUEST",
    message: "node command not allowed: the node's declared command surface is pending approval",
    close: null,
  },
  DUPLICATE_CONNECT: { wire: "INVALID_REQUEST", message: "already connected", close: null },
  INTERNAL_ERROR: { wire: "UNAVAILABLE", message: "internal error", close: null },
  // Work the gateway runs: no child starts unsandboxed unless the owner opted out.
  SANDBOX_UNAVAILABLE: {
    wire: "UNAVAILABLE",
    message:
      'cannot sandbox the child: install bubblewrap (apt-get install bubblewrap) or opt out with gateway.sandbox.mode "none"',
    close: null,
  },
  // Lifecycle.
  SHUTTING_DOWN: {
    wire: "UNAVAILABLE",
    message: "gateway shutting down",
    close: CLOSE_CODES.serviceRestart,
  },
} as const satisfies Record<string, ErrorRow>;

/** Closed union of every error code the gateway emits. */
export type GatewayErrorCode = keyof typeof ERROR_TABLE;

/**
 * `{code, message, details?, retryable?, retryAfterMs?}` exactly as an error travels on the wire.
 *
 * @example
 * ```ts
 * import type { ErrorShape } from "gatehouse-gateway/protocol";
 *
 * const refused: ErrorShape = { code: "FORBIDDEN", message: "missing scope: operator.write", details: { code: "MISSING_SCOPE" } };
 * console.log(refused.code); // FORBIDDEN
 * ```
 */
export interface ErrorShape {
  code: WireErrorCode;
  message: string;
  details?: unknown;
  retryable?: boolean;
  retryAfterMs?: number;
}

export interface GatewayErrorOptions {
  /** Replaces the table's default message. */
  message?: string;
  /** Extra `details` fields; `code` (and `reason` for device errors) are filled in from the table. */
  details?: Record<string, unknown>;
  retryable?: boolean;
  retryAfterMs?: number;
  /** Replaces the close reason (defaults to the message). */
  closeReason?: string;
}

/** A protocol error with a closed `code`; the table decides its wire code and close code. */
export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  readonly details: Record<string, unknown>;
  readonly retryable: boolean | undefined;
  readonly retryAfterMs: number | undefined;
  readonly closeReason: string;

  constructor(code: GatewayErrorCode, options: GatewayErrorOptions = {}) {
    const row: ErrorRow = ERROR_TABLE[code];
    const message = options.message ?? row.message;
    super(message);
    this.name = "GatewayError";
    this.code = code;
    this.details = { code, ...(row.reason ? { reason: row.reason } : {}), ...options.details };
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.closeReason = truncateCloseReason(options.closeReason ?? message);
  }

  /** The wire error code (`NOT_PAIRED`, `INVALID_REQUEST`, ...). */
  get wireCode(): WireErrorCode {
    return ERROR_TABLE[this.code].wire;
  }

  /** The close code that follows this error, or null when the connection stays open. */
  get closeCode(): number | null {
    return ERROR_TABLE[this.code].close;
  }

  /** The `error` object of a `res` frame. */
  toErrorShape(): ErrorShape {
    return {
      code: this.wireCode,
      message: this.message,
      details: this.details,
      ...(this.retryable !== undefined ? { retryable: this.retryable } : {}),
      ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
    };
  }
}

/** Close reasons are limited to 123 bytes of UTF-8 by RFC 6455; cut on a character boundary. */
export function truncateCloseReason(reason: string): string {
  const max = 123;
  if (Buffer.byteLength(reason, "utf8") <= max) return reason;
  let out = "";
  for (const ch of reason) {
    if (Buffer.byteLength(out + ch, "utf8") > max) break;
    out += ch;
  }
  return out;
}
