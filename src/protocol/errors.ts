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

/**
 * `details.recommendedNextStep` on a refusal (reference §1.9): what the refused client should do.
 *
 * @example
 * ```ts
 * import { ERROR_TABLE } from "gatehouse-gateway/protocol";
 *
 * console.log(ERROR_TABLE.AUTH_RATE_LIMITED.nextStep); // wait_then_retry
 * ```
 */
export type NextStep =
  | "retry_with_device_token"
  | "update_auth_configuration"
  | "update_auth_credentials"
  | "wait_then_retry"
  | "review_auth_configuration";

/**
 * Whether a client that reconnects on its own should: `pause` until someone acts (credentials,
 * approval, upgrade), `wait` for `retryAfterMs` (retrying sooner only feeds the rate limiter),
 * `retry` (a new attempt can succeed by itself), or nothing at all (`none`: a method-level error,
 * the connection stays open).
 */
export type RetryPolicy = "pause" | "wait" | "retry" | "none";

/** The credential a refusal is about; a client holding another kind of proof may present that instead. */
export type RefusedCredential =
  "gateway-token" | "gateway-password" | "device-token" | "setup-code" | "runtime-token";

/** The operator's fix for a refusal: the one command to run, when there is one, and why. */
export interface ErrorRemedy {
  command: string | null;
  explanation: string;
}

/** One row of {@link ERROR_TABLE}: what an error code means on the wire and to whoever must act on it. */
export interface ErrorRow {
  wire: WireErrorCode;
  message: string;
  /** Close code sent after the error; null keeps the connection open (method-level errors). */
  close: number | null;
  /** `details.reason` for device-proof failures (reference §1.9 table). */
  reason?: string;
  /** `details.authReason` of a failed credential check (reference §1.9). */
  authReason?: string;
  /** `details.recommendedNextStep`, for the refusals that carry one. */
  nextStep?: NextStep;
  retry: RetryPolicy;
  credential?: RefusedCredential;
  /**
   * The refused user's next step in one line: appended to `unauthorized` messages (shared-secret
   * rows in the wording of the client's kind) and printed by the CLI under the error.
   */
  hint?: string;
  /** Why it happened and the fix, for `gatehouse explain` and the Control UI. */
  remedy?: ErrorRemedy;
}

const policy = CLOSE_CODES.policy;

/** A row for an error after hello: the connection stays open and the same call cannot succeed by retrying. */
function methodError<const W extends WireErrorCode>(wire: W, message: string) {
  return { wire, message, close: null, retry: "none" } as const;
}

const TOKEN_HINT = "pass --token or set GATEHOUSE_GATEWAY_TOKEN to the gateway's gateway.auth.token";
const PROXY_HINT =
  "sign in through the gateway's proxy; gatehouse explain on the gateway host shows which check failed";
const PASSWORD_HINT =
  "pass --password or set GATEHOUSE_GATEWAY_PASSWORD to the gateway's gateway.auth.password";

/**
 * The one table. Keys double as `error.details.code` on the wire. The gateway builds its errors
 * from it, the client decides whether to reconnect from it, the CLI prints its hints and remedies,
 * and the Control UI is served its columns as a module (`/error-table.js`).
 */
export const ERROR_TABLE = {
  // Frames and handshake shape.
  INVALID_FRAME: { wire: "INVALID_REQUEST", message: "invalid request frame", close: policy, retry: "retry" },
  HANDSHAKE_NOT_CONNECT: {
    wire: "INVALID_REQUEST",
    message: "invalid handshake: first request must be connect",
    close: policy,
    retry: "retry",
  },
  INVALID_CONNECT_PARAMS: {
    wire: "INVALID_REQUEST",
    message: "invalid connect params",
    close: policy,
    retry: "retry",
  },
  PROTOCOL_MISMATCH: {
    wire: "INVALID_REQUEST",
    message: "protocol mismatch",
    close: CLOSE_CODES.protocolMismatch,
    retry: "pause",
    hint: "the gateway speaks another protocol version; upgrade the older side",
  },
  INVALID_ROLE: { wire: "INVALID_REQUEST", message: "invalid role", close: policy, retry: "retry" },
  CONTROL_UI_ORIGIN_NOT_ALLOWED: {
    wire: "INVALID_REQUEST",
    message:
      "origin not allowed (open the Control UI from the gateway host or allow it in gateway.controlUi.allowedOrigins)",
    close: policy,
    retry: "retry",
    remedy: {
      command: null,
      explanation:
        'If that origin is your own Control UI, add it exactly to gateway.controlUi.allowedOrigins; never use "*" (any web page could then try the shared secret).',
    },
  },
  // Refused before the upgrade (HTTP 421), so it never travels in a frame.
  HOST_NOT_ALLOWED: {
    wire: "INVALID_REQUEST",
    message: "host not allowed: the Host header is not a name of this gateway",
    close: policy,
    retry: "retry",
    remedy: {
      command: null,
      explanation:
        "The page addressed the gateway by a name that is not one of its own (DNS rebinding looks like this). Open the Control UI at http://127.0.0.1:<port>/ or localhost, or list the page's origin in gateway.controlUi.allowedOrigins (its host then becomes a name of the gateway).",
    },
  },
  // Device proof, in the order it is checked.
  DEVICE_AUTH_DEVICE_ID_MISMATCH: {
    wire: "INVALID_REQUEST",
    message: "device identity mismatch",
    close: policy,
    reason: "device-id-mismatch",
    retry: "retry",
    remedy: {
      command: null,
      explanation:
        "The deviceId is not the SHA-256 of the public key: the client's identity is damaged. Recreate it (it then pairs as a new device).",
    },
  },
  DEVICE_AUTH_SIGNATURE_EXPIRED: {
    wire: "INVALID_REQUEST",
    message: "device signature expired",
    close: policy,
    reason: "device-signature-stale",
    retry: "retry",
    remedy: {
      command: null,
      explanation: "The client's clock is more than 2 minutes off the gateway's: synchronize it (NTP).",
    },
  },
  DEVICE_AUTH_NONCE_REQUIRED: {
    wire: "INVALID_REQUEST",
    message: "device nonce required",
    close: policy,
    reason: "device-nonce-missing",
    retry: "retry",
    remedy: {
      command: null,
      explanation: "The client must sign the nonce from connect.challenge: update the client.",
    },
  },
  DEVICE_AUTH_NONCE_MISMATCH: {
    wire: "INVALID_REQUEST",
    message: "device nonce mismatch",
    close: policy,
    reason: "device-nonce-mismatch",
    retry: "retry",
    remedy: {
      command: null,
      explanation:
        "The client signed a nonce other than this connection's challenge (a replay, or a reused proof): update the client.",
    },
  },
  DEVICE_AUTH_SIGNATURE_INVALID: {
    wire: "INVALID_REQUEST",
    message: "device signature invalid",
    close: policy,
    reason: "device-signature",
    retry: "retry",
    remedy: {
      command: null,
      explanation:
        "The signature does not match the fields sent (v3 or v2 payload): update the client, or check that it signs the credential it actually presents.",
    },
  },
  DEVICE_AUTH_PUBLIC_KEY_INVALID: {
    wire: "INVALID_REQUEST",
    message: "device public key invalid",
    close: policy,
    reason: "device-public-key",
    retry: "retry",
    remedy: {
      command: null,
      explanation: "The public key is not a valid Ed25519 key: recreate the client's identity.",
    },
  },
  // Credentials.
  // Trusted-proxy mode: no proxy identity and no proof from this host.
  AUTH_REQUIRED: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: credentials required",
    close: policy,
    authReason: "unauthorized",
    nextStep: "update_auth_configuration",
    retry: "retry",
    hint: "connect through the gateway's proxy; on the gateway host use the owner key or gateway.auth.password",
  },
  AUTH_UNAUTHORIZED: {
    wire: "INVALID_REQUEST",
    message: "unauthorized",
    close: policy,
    authReason: "unauthorized",
    nextStep: "update_auth_configuration",
    retry: "retry",
    hint: "auth.mode none only admits direct loopback connections",
    remedy: {
      command: null,
      explanation:
        "gateway.auth.mode none only admits direct-local connections. For anything else set gateway.auth.mode to token and present the token.",
    },
  },
  // Trusted-proxy mode: the proxy's identity was not believed (the trace says which check).
  AUTH_IDENTITY_HEADER_REQUIRED: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: the trusted proxy did not send the identity headers this gateway requires",
    close: policy,
    authReason: "trusted_proxy_missing_header",
    nextStep: "update_auth_configuration",
    retry: "retry",
    hint: PROXY_HINT,
  },
  AUTH_TRUSTED_PROXY_UNTRUSTED_SOURCE: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: identity headers from an address that is not a trusted proxy",
    close: policy,
    authReason: "trusted_proxy_untrusted_source",
    nextStep: "update_auth_configuration",
    retry: "retry",
    hint: PROXY_HINT,
  },
  AUTH_TRUSTED_PROXY_ASSERTION_INVALID: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: the trusted proxy's signed assertion did not verify",
    close: policy,
    authReason: "trusted_proxy_assertion_invalid",
    nextStep: "update_auth_credentials",
    retry: "retry",
    hint: PROXY_HINT,
  },
  AUTH_TRUSTED_PROXY_USER_NOT_ALLOWED: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: this user is not allowed on this gateway (gateway.auth.trustedProxy.allowUsers)",
    close: policy,
    authReason: "trusted_proxy_user_not_allowed",
    nextStep: "update_auth_configuration",
    retry: "retry",
    hint: PROXY_HINT,
  },
  AUTH_RUNTIME_TOKEN_INVALID: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: runtime token invalid, expired or its job has ended",
    close: policy,
    authReason: "runtime_token_invalid",
    nextStep: "update_auth_credentials",
    retry: "retry",
    credential: "runtime-token",
    remedy: {
      command: null,
      explanation:
        "Runtime tokens are minted by the gateway for the jobs it starts and only work for them (operator role, no browser, before they expire). Start the work through the gateway, or connect with a paired device instead.",
    },
  },
  AUTH_TOKEN_MISSING: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: gateway token missing",
    close: policy,
    authReason: "token_missing",
    nextStep: "update_auth_credentials",
    retry: "pause",
    credential: "gateway-token",
    hint: TOKEN_HINT,
    remedy: {
      command: null,
      explanation:
        "Present the shared gateway token: the value of gateway.auth.token (or GATEHOUSE_GATEWAY_TOKEN on the gateway), given to the client as --token or GATEHOUSE_GATEWAY_TOKEN.",
    },
  },
  AUTH_TOKEN_MISMATCH: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: gateway token mismatch",
    close: policy,
    authReason: "token_mismatch",
    nextStep: "update_auth_credentials",
    retry: "pause",
    credential: "gateway-token",
    hint: TOKEN_HINT,
    remedy: {
      command: null,
      explanation:
        "The token presented is not the gateway's: copy gateway.auth.token again. A stale GATEHOUSE_GATEWAY_TOKEN baked into a service unit or shell profile is the usual cause.",
    },
  },
  AUTH_TOKEN_NOT_CONFIGURED: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: gateway token not configured on gateway (set gateway.auth.token)",
    close: policy,
    authReason: "token_missing_config",
    nextStep: "update_auth_configuration",
    retry: "retry",
    credential: "gateway-token",
    remedy: {
      command: "gatehouse doctor --fix",
      explanation:
        "The gateway has no shared token configured; gatehouse doctor --fix generates one into the config file (or set gateway.auth.token yourself).",
    },
  },
  AUTH_PASSWORD_MISSING: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: gateway password missing",
    close: policy,
    authReason: "password_missing",
    nextStep: "update_auth_credentials",
    retry: "pause",
    credential: "gateway-password",
    hint: PASSWORD_HINT,
    remedy: {
      command: null,
      explanation:
        "Present the shared gateway password (gateway.auth.password), given to the client as --password or GATEHOUSE_GATEWAY_PASSWORD.",
    },
  },
  AUTH_PASSWORD_MISMATCH: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: gateway password mismatch",
    close: policy,
    authReason: "password_mismatch",
    nextStep: "update_auth_credentials",
    retry: "pause",
    credential: "gateway-password",
    hint: PASSWORD_HINT,
    remedy: {
      command: null,
      explanation: "The password presented is not the gateway's: copy gateway.auth.password again.",
    },
  },
  AUTH_PASSWORD_NOT_CONFIGURED: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: gateway password not configured on gateway (set gateway.auth.password)",
    close: policy,
    authReason: "password_missing_config",
    nextStep: "update_auth_configuration",
    retry: "retry",
    credential: "gateway-password",
    remedy: {
      command: null,
      explanation: "The gateway runs in password mode without a password: set gateway.auth.password.",
    },
  },
  AUTH_DEVICE_TOKEN_MISMATCH: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: device token mismatch (rotate/reissue device token)",
    close: policy,
    authReason: "device_token_mismatch",
    nextStep: "update_auth_credentials",
    retry: "pause",
    credential: "device-token",
    hint: "this device's token is no longer valid; present the shared gateway token so the gateway can issue a new one",
    remedy: {
      command: null,
      explanation:
        "The device token is unknown, was rotated or was revoked. Present the shared token instead: a paired key is then admitted and issued a new device token; a revoked role needs an approval again.",
    },
  },
  AUTH_BOOTSTRAP_TOKEN_INVALID: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: setup code invalid, expired or already used",
    close: policy,
    authReason: "bootstrap_token_invalid",
    nextStep: "update_auth_credentials",
    retry: "pause",
    credential: "setup-code",
    hint: "ask the gateway owner for a new one: gatehouse pair code",
    remedy: {
      command: "gatehouse pair code",
      explanation:
        "The setup code was unknown, expired or already used by another device (codes are single-use). Mint a new one on the gateway host and pair with it once.",
    },
  },
  AUTH_SCOPE_MISMATCH: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: scope mismatch",
    close: policy,
    authReason: "scope_mismatch",
    nextStep: "update_auth_credentials",
    retry: "pause",
    credential: "device-token",
    hint: "this device's token does not carry the scopes asked for; ask the owner to rotate it (gatehouse devices rotate)",
    remedy: {
      command: null,
      explanation:
        "The device token does not carry the scopes asked for. Ask for fewer, present the shared token so the wider request can be approved as an upgrade, or (if the device is approved for them) rotate its token to carry them.",
    },
  },
  AUTH_RATE_LIMITED: {
    wire: "INVALID_REQUEST",
    message: "unauthorized: too many failed attempts",
    close: policy,
    authReason: "rate_limited",
    nextStep: "wait_then_retry",
    retry: "wait",
    remedy: {
      command: null,
      explanation: "Too many failed attempts from this address: wait, then retry with the right credential.",
    },
  },
  // Pairing.
  DEVICE_IDENTITY_REQUIRED: {
    wire: "NOT_PAIRED",
    message: "device identity required",
    close: policy,
    retry: "pause",
    remedy: {
      command: null,
      explanation:
        "Only the operator role may connect without a device identity; a node must sign its connect with its own key and be approved once.",
    },
  },
  CONTROL_UI_DEVICE_IDENTITY_REQUIRED: {
    wire: "INVALID_REQUEST",
    message: "control ui requires device identity (use HTTPS or localhost secure context)",
    close: policy,
    retry: "retry",
    remedy: {
      command: null,
      explanation:
        "The Control UI needs a device identity: open it over HTTPS or from localhost (a secure context) so the browser can create one.",
    },
  },
  // Waiting is the fix: an approval admits the same request on the next attempt.
  PAIRING_REQUIRED: {
    wire: "NOT_PAIRED",
    message: "pairing required",
    close: policy,
    nextStep: "wait_then_retry",
    retry: "pause",
    hint: "this device must be approved on the gateway host (gatehouse devices list there)",
  },
  // After hello: method dispatch. These keep the connection open.
  UNKNOWN_METHOD: methodError("INVALID_REQUEST", "unknown method"),
  INVALID_PARAMS: methodError("INVALID_REQUEST", "invalid params"),
  MISSING_SCOPE: {
    ...methodError("FORBIDDEN", "missing scope"),
    hint: "this connection was not granted the scope the method needs",
  },
  ROLE_NOT_ALLOWED: methodError("FORBIDDEN", "method not allowed for this role"),
  FORBIDDEN_ACTION: methodError("FORBIDDEN", "not allowed"),
  // OpenClaw answers an unapproved node command with INVALID_REQUEST "node command not allowed: …".
  NODE_COMMAND_NOT_APPROVED: {
    ...methodError(
      "INVALID_REQUEST",
      "node command not allowed: the node's declared command surface is pending approval",
    ),
    hint: "approve the node's declared commands on the gateway host (gatehouse nodes pending there)",
  },
  DUPLICATE_CONNECT: methodError("INVALID_REQUEST", "already connected"),
  INTERNAL_ERROR: methodError("UNAVAILABLE", "internal error"),
  // Work the gateway runs: no child starts unsandboxed unless the owner opted out.
  SANDBOX_UNAVAILABLE: methodError(
    "UNAVAILABLE",
    'cannot sandbox the child: install bubblewrap (apt-get install bubblewrap) or opt out with gateway.sandbox.mode "none"',
  ),
  // Lifecycle.
  SHUTTING_DOWN: {
    wire: "UNAVAILABLE",
    message: "gateway shutting down",
    close: CLOSE_CODES.serviceRestart,
    retry: "retry",
  },
} as const satisfies Record<string, ErrorRow>;

/** Closed union of every error code the gateway emits. */
export type GatewayErrorCode = keyof typeof ERROR_TABLE;

/** True when `code` (a `details.code` read off the wire) is one of this table's codes. */
export function isGatewayErrorCode(code: string): code is GatewayErrorCode {
  return Object.hasOwn(ERROR_TABLE, code);
}

/** The row of `code` with every column, optional ones as undefined (lookups by a code read at run time). */
export function errorMeaning(code: GatewayErrorCode): Readonly<ErrorRow> {
  return ERROR_TABLE[code];
}

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
