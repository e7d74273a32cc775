/** Builds the actionable `unauthorized: ...` errors for failed shared-secret checks (reference §1.9). */
import { ERROR_TABLE, GatewayError, type GatewayErrorCode } from "../protocol/errors.js";

const AUTH_REASON: Partial<Record<GatewayErrorCode, string>> = {
  AUTH_TOKEN_MISSING: "token_missing",
  AUTH_TOKEN_MISMATCH: "token_mismatch",
  AUTH_TOKEN_NOT_CONFIGURED: "token_missing_config",
  AUTH_PASSWORD_MISSING: "password_missing",
  AUTH_PASSWORD_MISMATCH: "password_mismatch",
  AUTH_PASSWORD_NOT_CONFIGURED: "password_missing_config",
  AUTH_DEVICE_TOKEN_MISMATCH: "device_token_mismatch",
  AUTH_UNAUTHORIZED: "unauthorized",
  AUTH_RUNTIME_TOKEN_INVALID: "runtime_token_invalid",
  AUTH_BOOTSTRAP_TOKEN_INVALID: "bootstrap_token_invalid",
  AUTH_RATE_LIMITED: "rate_limited",
  AUTH_SCOPE_MISMATCH: "scope_mismatch",
  AUTH_IDENTITY_HEADER_REQUIRED: "trusted_proxy_missing_header",
  AUTH_TRUSTED_PROXY_UNTRUSTED_SOURCE: "trusted_proxy_untrusted_source",
  AUTH_TRUSTED_PROXY_ASSERTION_INVALID: "trusted_proxy_assertion_invalid",
  AUTH_TRUSTED_PROXY_USER_NOT_ALLOWED: "trusted_proxy_user_not_allowed",
};

/** What the client should do next, so it can stop retrying when retrying cannot help. */
function nextStep(code: GatewayErrorCode): string {
  switch (code) {
    case "AUTH_TOKEN_NOT_CONFIGURED":
    case "AUTH_PASSWORD_NOT_CONFIGURED":
    case "AUTH_UNAUTHORIZED":
    case "AUTH_REQUIRED":
    case "AUTH_IDENTITY_HEADER_REQUIRED":
    case "AUTH_TRUSTED_PROXY_UNTRUSTED_SOURCE":
    case "AUTH_TRUSTED_PROXY_USER_NOT_ALLOWED":
      return "update_auth_configuration";
    case "AUTH_RATE_LIMITED":
      return "wait_then_retry";
    default:
      return "update_auth_credentials";
  }
}

function hint(code: GatewayErrorCode, client: { id: string; mode: string }): string | null {
  if (code === "AUTH_TOKEN_NOT_CONFIGURED" || code === "AUTH_PASSWORD_NOT_CONFIGURED") return null;
  if (code === "AUTH_DEVICE_TOKEN_MISMATCH" || code === "AUTH_RUNTIME_TOKEN_INVALID") return null;
  if (code === "AUTH_BOOTSTRAP_TOKEN_INVALID")
    return "ask the gateway owner for a new one: gatehouse pair code";
  if (code === "AUTH_SCOPE_MISMATCH") return null;
  if (code === "AUTH_REQUIRED") {
    return "connect through the gateway's proxy; on the gateway host use the owner key or gateway.auth.password";
  }
  if (code.startsWith("AUTH_TRUSTED_PROXY") || code === "AUTH_IDENTITY_HEADER_REQUIRED") {
    return "sign in through the gateway's proxy; gatehouse explain on the gateway host shows which check failed";
  }
  if (code === "AUTH_UNAUTHORIZED") return "auth.mode none only admits direct loopback connections";
  const secret = code.startsWith("AUTH_PASSWORD") ? "password" : "token";
  if (client.id === "cli") {
    return secret === "token"
      ? "pass --token or set GATEHOUSE_GATEWAY_TOKEN to the gateway's gateway.auth.token"
      : "pass --password or set GATEHOUSE_GATEWAY_PASSWORD to the gateway's gateway.auth.password";
  }
  if (client.id === "openclaw-control-ui" || client.mode === "webchat") {
    return secret === "token"
      ? "paste the gateway token on this page, or open the URL that gatehouse dashboard --print prints on the gateway host"
      : "paste the gateway password on this page";
  }
  return `provide gateway auth ${secret}`;
}

/** An `unauthorized` error with `authReason`, `canRetryWithDeviceToken` and `recommendedNextStep`. */
export function unauthorizedError(
  code: GatewayErrorCode,
  client: { id: string; mode: string },
): GatewayError {
  const h = hint(code, client);
  const base = ERROR_TABLE[code].message;
  return new GatewayError(code, {
    message: h ? `${base} (${h})` : base,
    details: {
      authReason: AUTH_REASON[code] ?? "unauthorized",
      canRetryWithDeviceToken: false,
      recommendedNextStep: nextStep(code),
    },
  });
}
