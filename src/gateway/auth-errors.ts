/** Builds the actionable `unauthorized: ...` errors for failed credential checks (reference §1.9). */
import { errorMeaning, GatewayError, type GatewayErrorCode } from "../protocol/errors.js";

/**
 * The table's hint in the words of the client's kind: a shared secret is pasted into the Control
 * UI, passed as a flag to the CLI, and only named to anything else.
 */
function hintFor(code: GatewayErrorCode, client: { id: string; mode: string }): string | null {
  const row = errorMeaning(code);
  if (!row.hint) return null;
  if (row.credential !== "gateway-token" && row.credential !== "gateway-password") return row.hint;
  const secret = row.credential === "gateway-password" ? "password" : "token";
  if (client.id === "cli") return row.hint;
  if (client.id === "openclaw-control-ui" || client.mode === "webchat") {
    return secret === "token"
      ? "paste the gateway token on this page, or open the URL that gatehouse dashboard --print prints on the gateway host"
      : "paste the gateway password on this page";
  }
  return `provide gateway auth ${secret}`;
}

/** An `unauthorized` error with `authReason`, `canRetryWithDeviceToken` and `recommendedNextStep` from the table. */
export function unauthorizedError(
  code: GatewayErrorCode,
  client: { id: string; mode: string },
): GatewayError {
  const row = errorMeaning(code);
  const h = hintFor(code, client);
  return new GatewayError(code, {
    message: h ? `${row.message} (${h})` : row.message,
    details: {
      authReason: row.authReason ?? "unauthorized",
      canRetryWithDeviceToken: false,
      recommendedNextStep: row.nextStep ?? "update_auth_credentials",
    },
  });
}
