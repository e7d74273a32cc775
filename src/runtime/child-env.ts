/**
 * The environment of a process the gateway starts. The gateway's own environment may hold its
 * shared secret, its password and whatever credentials its operator exported; a child gets none of
 * them. What it gets instead is a URL and a runtime token bound to its job (design principle 6).
 *
 * Where to find trusted certificates (`NODE_EXTRA_CA_CERTS`, `SSL_CERT_FILE`, `SSL_CERT_DIR`) is
 * inherited like any other setting, though it costs every Node child start-up time (Node 20 parses
 * the named certificates before any code runs: about 40 ms for Debian's whole bundle on a small VM,
 * bench/README.md). The call-back itself never needs it — the child dials the gateway's loopback URL,
 * over ws:// or over wss:// pinned to the gateway's certificate fingerprint, neither of which consults
 * a CA — but the job's own work may: a sub-agent calling an API through a proxy that re-signs TLS
 * with a private CA fails without it. A gateway cannot know what its jobs reach, so it passes on
 * what its operator set; an operator whose jobs need no extra CAs leaves it out of the gateway's
 * environment.
 */

/** Variables the gateway sets for every child; callers may not set or override them. */
export const CHILD_ENV = Object.freeze({
  url: "GATEHOUSE_GATEWAY_URL",
  token: "GATEHOUSE_RUNTIME_TOKEN",
  scopes: "GATEHOUSE_RUNTIME_SCOPES",
  sessionId: "GATEHOUSE_SESSION_ID",
  tlsFingerprint: "GATEHOUSE_GATEWAY_TLS_FINGERPRINT",
});

/**
 * Names never inherited from the gateway's environment:
 * - every `GATEHOUSE_*` variable: the gateway's own settings, including `GATEHOUSE_GATEWAY_TOKEN`,
 *   `GATEHOUSE_GATEWAY_PASSWORD`, the gateway's own `GATEHOUSE_RUNTIME_TOKEN` (when the gateway itself
 *   runs under another gateway) and `GATEHOUSE_STATE_DIR` (which leads to the owner key);
 * - any name that looks like a credential: TOKEN, PASSWORD, PASSWD, SECRET, KEY, CREDENTIAL, AUTH,
 *   COOKIE or PRIVATE anywhere in it, in any case (`OPENAI_API_KEY`, `OPENCLAW_GATEWAY_TOKEN`,
 *   `SSH_AUTH_SOCK`, ...). Dropping a harmless variable costs little; passing a secret on does not.
 */
const GATEHOUSE_NAME = /^GATEHOUSE_/i;
const SECRET_NAME = /TOKEN|PASSWORD|PASSWD|SECRET|KEY|CREDENTIAL|AUTH|COOKIE|PRIVATE/i;

/** Secret values shorter than this are not searched for in other variables (too many false hits). */
const MIN_SECRET_VALUE_LENGTH = 8;

/** True when an inherited variable of this name must not reach a child. */
export function isWithheldName(name: string): boolean {
  return GATEHOUSE_NAME.test(name) || SECRET_NAME.test(name);
}

/** The secret values worth searching for (non-empty, long enough to match meaningfully). */
export function searchableSecrets(values: readonly (string | undefined | null)[]): string[] {
  return values.filter((v): v is string => typeof v === "string" && v.length >= MIN_SECRET_VALUE_LENGTH);
}

/** Token-shaped runs: 32 random bytes in base64url, as device and runtime tokens are minted. */
const TOKEN_SHAPED = /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g;

/** The token-shaped substrings of a value (the candidates worth looking up). */
export function tokenShaped(value: string): string[] {
  return value.match(TOKEN_SHAPED) ?? [];
}

export interface ChildEnvInput {
  /** The gateway's environment (usually `process.env`). */
  inherited: NodeJS.ProcessEnv;
  /** The caller's additions, already checked by {@link checkCallerEnv}. */
  extra?: Readonly<Record<string, string>>;
  /** The gateway's shared secrets: any inherited variable whose value contains one is dropped. */
  secretValues?: readonly string[];
  /**
   * True for a credential the gateway issued (a device or runtime token, by hash): any inherited
   * variable with a token-shaped substring it recognises is dropped, whatever its name.
   */
  isCredential?: (text: string) => boolean;
  gatewayUrl: string;
  /** Set when the gateway serves wss://: the child pins the certificate. */
  gatewayTlsFingerprint?: string | null;
  runtimeToken: string;
  scopes: readonly string[];
  sessionId: string;
}

/**
 * Builds a child's environment: inherited minus secrets (by name, by shared-secret value, by issued
 * token), plus the caller's, plus the gateway's four.
 */
export function buildChildEnv(input: ChildEnvInput): Record<string, string> {
  const secrets = input.secretValues ?? [];
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.inherited)) {
    if (value === undefined || isWithheldName(name)) continue;
    if (secrets.some((s) => value.includes(s))) continue;
    if (input.isCredential && tokenShaped(value).some(input.isCredential)) continue;
    env[name] = value;
  }
  Object.assign(env, input.extra ?? {});
  env[CHILD_ENV.url] = input.gatewayUrl;
  env[CHILD_ENV.token] = input.runtimeToken;
  env[CHILD_ENV.scopes] = input.scopes.join(",");
  env[CHILD_ENV.sessionId] = input.sessionId;
  if (input.gatewayTlsFingerprint) env[CHILD_ENV.tlsFingerprint] = input.gatewayTlsFingerprint;
  return env;
}

/**
 * Why a caller's `env` cannot be used, or null when it can: it may not set `GATEHOUSE_*` names (the
 * gateway owns them), and may not hand the gateway's shared secret or a token it issued to a child.
 */
export function checkCallerEnv(
  env: Readonly<Record<string, string>>,
  secretValues: readonly string[],
  isCredential?: (text: string) => boolean,
): { field: string; message: string } | null {
  for (const [name, value] of Object.entries(env)) {
    if (GATEHOUSE_NAME.test(name)) {
      return {
        field: `env.${name}`,
        message: `env.${name}: GATEHOUSE_* variables are set by the gateway (the child gets its own URL and runtime token)`,
      };
    }
    if (secretValues.some((s) => value.includes(s))) {
      return {
        field: `env.${name}`,
        message: `env.${name}: carries the gateway's shared secret; children authenticate with their runtime token instead`,
      };
    }
    if (isCredential && tokenShaped(value).some(isCredential)) {
      return {
        field: `env.${name}`,
        message: `env.${name}: carries a device or runtime token; children authenticate with their own runtime token instead`,
      };
    }
  }
  return null;
}
