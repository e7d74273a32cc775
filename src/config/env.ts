/** Environment variables Gatehouse reads. An empty variable counts as unset (`FOO= cmd` unsets it). */
import { checkPort, checkTimeoutMs } from "./validate.js";

export const ENV = Object.freeze({
  stateDir: "GATEHOUSE_STATE_DIR",
  token: "GATEHOUSE_GATEWAY_TOKEN",
  password: "GATEHOUSE_GATEWAY_PASSWORD",
  port: "GATEHOUSE_PORT",
  handshakeTimeoutMs: "GATEHOUSE_HANDSHAKE_TIMEOUT_MS",
  /** Client side: the URL the CLI dials. */
  url: "GATEHOUSE_GATEWAY_URL",
  /** Client side: the SHA-256 of the gateway's TLS certificate to pin (wss://). */
  tlsFingerprint: "GATEHOUSE_GATEWAY_TLS_FINGERPRINT",
});

/** Server-side values taken from the environment, validated. */
export interface EnvOverrides {
  port?: number;
  token?: string;
  password?: string;
  handshakeTimeoutMs?: number;
}

/** The value of `name`, or undefined when it is unset or empty. */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

/** Reads and validates the server-side overrides; a bad value throws naming the variable. */
export function readEnvOverrides(env: NodeJS.ProcessEnv): EnvOverrides {
  const out: EnvOverrides = {};
  const port = envValue(env, ENV.port);
  if (port !== undefined) out.port = checkPort(integerOrText(port), ENV.port, { allowZero: true });
  const timeout = envValue(env, ENV.handshakeTimeoutMs);
  if (timeout !== undefined)
    out.handshakeTimeoutMs = checkTimeoutMs(integerOrText(timeout), ENV.handshakeTimeoutMs);
  const token = envValue(env, ENV.token);
  if (token !== undefined) out.token = token;
  const password = envValue(env, ENV.password);
  if (password !== undefined) out.password = password;
  return out;
}

/** Decimal digits become a number; anything else stays text so the error can show what was given. */
export function integerOrText(text: string): number | string {
  return /^\d+$/.test(text) ? Number(text) : text;
}
