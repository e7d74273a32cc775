/**
 * `connectFromEnv()`: how a process the gateway started (a sub-agent session, a cron run) calls
 * back. The gateway puts its URL and a runtime token bound to the job in the child's environment;
 * the child connects device-less as `gateway-client`/`backend` with that token — no pairing, no
 * device identity of its own, no shared secret.
 */
import { GatewayClient, type GatewayClientOptions } from "./client.js";
import { GatewayClientError } from "./errors.js";

/** The variables the gateway sets for every process it starts. */
export const RUNTIME_ENV = Object.freeze({
  url: "GATEHOUSE_GATEWAY_URL",
  token: "GATEHOUSE_RUNTIME_TOKEN",
  scopes: "GATEHOUSE_RUNTIME_SCOPES",
  sessionId: "GATEHOUSE_SESSION_ID",
  tlsFingerprint: "GATEHOUSE_GATEWAY_TLS_FINGERPRINT",
});

export interface ConnectFromEnvOptions extends Omit<
  GatewayClientOptions,
  "url" | "auth" | "identity" | "deviceTokenStore" | "role" | "scopes"
> {
  /** Where to read the variables; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Scopes to ask for; default all of `GATEHOUSE_RUNTIME_SCOPES` (asking for more is refused). */
  scopes?: readonly string[];
}

/** What a child learns from its environment, before connecting. */
export interface RuntimeEnv {
  url: string;
  token: string;
  scopes: string[];
  sessionId: string | null;
  /** The gateway's certificate fingerprint when it serves wss:// (pinned). */
  tlsFingerprint: string | null;
}

/** Reads the runtime variables; INVALID_OPTIONS naming the missing ones. */
export function readRuntimeEnv(env: NodeJS.ProcessEnv = process.env): RuntimeEnv {
  const url = env[RUNTIME_ENV.url] ?? "";
  const token = env[RUNTIME_ENV.token] ?? "";
  const missing = [...(url === "" ? [RUNTIME_ENV.url] : []), ...(token === "" ? [RUNTIME_ENV.token] : [])];
  if (missing.length > 0) {
    throw new GatewayClientError(
      "INVALID_OPTIONS",
      `connectFromEnv: ${missing.join(" and ")} ${missing.length === 1 ? "is" : "are"} not set; ` +
        "they are set only for processes the gateway starts (sessions.spawn, cron runs). " +
        "Elsewhere, connect with a GatewayClient and the gateway's token or a device identity.",
    );
  }
  const scopes = (env[RUNTIME_ENV.scopes] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  return {
    url,
    token,
    scopes,
    sessionId: env[RUNTIME_ENV.sessionId] || null,
    tlsFingerprint: env[RUNTIME_ENV.tlsFingerprint] || null,
  };
}

/**
 * Connects with the runtime token in the environment and resolves with the connected client; the
 * caller closes it. Rejects with a GatewayClientError: INVALID_OPTIONS when the variables are
 * missing, HANDSHAKE_REJECTED (`AUTH_RUNTIME_TOKEN_INVALID`) once the job has ended or the token
 * expired, `AUTH_SCOPE_MISMATCH` when asking beyond the token.
 *
 * @example
 * const client = await connectFromEnv();
 * const sessions = await client.request("sessions.list", {});
 * await client.close();
 */
export async function connectFromEnv(options: ConnectFromEnvOptions = {}): Promise<GatewayClient> {
  const { env, scopes, ...rest } = options;
  const runtime = readRuntimeEnv(env);
  const client = new GatewayClient({
    ...rest,
    url: runtime.url,
    ...(runtime.tlsFingerprint && rest.tlsFingerprint === undefined
      ? { tlsFingerprint: runtime.tlsFingerprint }
      : {}),
    auth: { agentRuntimeIdentityToken: runtime.token },
    client: { id: "gateway-client", mode: "backend", ...rest.client },
    role: "operator",
    scopes: scopes ?? runtime.scopes,
  });
  await client.connect();
  return client;
}
