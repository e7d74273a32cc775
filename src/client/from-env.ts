/**
 * `connectFromEnv()`: how a process the gateway started (a sub-agent session, a cron run) calls
 * back. The gateway puts its URL and a runtime token bound to the job in the child's environment;
 * the child connects device-less as `gateway-client`/`backend` with that token — no pairing, no
 * device identity of its own, no shared secret.
 */
import { GatewayClient, type GatewayClientOptions } from "./client.js";
import { GatewayClientError } from "./errors.js";

/**
 * The environment variables a gateway sets for every process it starts (sessions, cron runs): its
 * URL, a runtime token bound to the job, the token's scopes, the session id and the TLS pin.
 *
 * @example
 * ```ts
 * import { RUNTIME_ENV } from "gatehouse-gateway/client/env";
 *
 * console.log(RUNTIME_ENV.url, RUNTIME_ENV.token); // GATEHOUSE_GATEWAY_URL GATEHOUSE_RUNTIME_TOKEN
 * ```
 */
export const RUNTIME_ENV = Object.freeze({
  url: "GATEHOUSE_GATEWAY_URL",
  token: "GATEHOUSE_RUNTIME_TOKEN",
  scopes: "GATEHOUSE_RUNTIME_SCOPES",
  sessionId: "GATEHOUSE_SESSION_ID",
  tlsFingerprint: "GATEHOUSE_GATEWAY_TLS_FINGERPRINT",
});

/**
 * Options of {@link connectFromEnv}: those of a {@link GatewayClient} except what the environment
 * decides (URL, credentials, role), plus where to read the variables and which scopes to ask for.
 *
 * @example
 * ```ts
 * import type { ConnectFromEnvOptions } from "gatehouse-gateway/client/env";
 *
 * const options: ConnectFromEnvOptions = { scopes: ["operator.read"], requestTimeoutMs: 5_000 };
 * console.log(options.scopes); // [ 'operator.read' ]
 * ```
 */
export interface ConnectFromEnvOptions extends Omit<
  GatewayClientOptions,
  "url" | "auth" | "identity" | "deviceTokenStore" | "role" | "scopes"
> {
  /** Where to read the variables; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Scopes to ask for; default all of `GATEHOUSE_RUNTIME_SCOPES` (asking for more is refused). */
  scopes?: readonly string[];
}

/**
 * What a process the gateway started learns from its environment ({@link readRuntimeEnv}).
 *
 * @example
 * ```ts
 * import { readRuntimeEnv, type RuntimeEnv } from "gatehouse-gateway/client/env";
 *
 * const runtime: RuntimeEnv = readRuntimeEnv({
 *   GATEHOUSE_GATEWAY_URL: "ws://127.0.0.1:18789",
 *   GATEHOUSE_RUNTIME_TOKEN: "minted-by-the-gateway",
 *   GATEHOUSE_RUNTIME_SCOPES: "operator.read",
 * });
 * console.log(runtime.url, runtime.scopes, runtime.sessionId); // ws://127.0.0.1:18789 [ 'operator.read' ] null
 * ```
 */
export interface RuntimeEnv {
  url: string;
  token: string;
  scopes: string[];
  sessionId: string | null;
  /** The gateway's certificate fingerprint when it serves wss:// (pinned). */
  tlsFingerprint: string | null;
}

/**
 * Reads the runtime variables ({@link RUNTIME_ENV}); throws a {@link GatewayClientError}
 * `INVALID_OPTIONS` naming the missing ones.
 *
 * @example
 * ```ts
 * import { GatewayClientError, readRuntimeEnv } from "gatehouse-gateway/client/env";
 *
 * try {
 *   readRuntimeEnv({});
 * } catch (err) {
 *   console.log(err instanceof GatewayClientError && err.code); // INVALID_OPTIONS
 * }
 * ```
 */
export function readRuntimeEnv(env: NodeJS.ProcessEnv = process.env): RuntimeEnv {
  const url = env[RUNTIME_ENV.url] ?? "";
  const token = env[RUNTIME_ENV.token] ?? "";
  const missing = [...(url === "" ? [RUNTIME_ENV.url] : []), ...(token === "" ? [RUNTIME_ENV.token] : [])];
  if (missing.length > 0) {
    throw new GatewayClientError(
      "INVALID_OPTIONS",
      `connectFromEnv: ${missing.join(" and ")} ${missing.length === 1 ? "is" : "are"} not set; ` +
        "they are set only for processes the gateway starts (sub-agent sessions, cron runs). " +
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
 * caller closes it. Rejects with a {@link GatewayClientError}: `INVALID_OPTIONS` when the variables
 * are missing (the process was not started by a gateway), `HANDSHAKE_REJECTED`
 * (`AUTH_RUNTIME_TOKEN_INVALID`) once the job has ended or the token expired, and
 * `AUTH_SCOPE_MISMATCH` when asking beyond the token. Import it from `gatehouse-gateway/client/env`
 * (also exported by `gatehouse-gateway/client`): that entry loads only what calling back needs.
 *
 * @example
 * ```ts
 * import { connectFromEnv, GatewayClientError } from "gatehouse-gateway/client/env";
 *
 * try {
 *   const client = await connectFromEnv(); // in a process the gateway started (sessions spawn, cron)
 *   console.log(await client.request("sessions.list", {}));
 *   await client.close();
 * } catch (err) {
 *   if (!(err instanceof GatewayClientError) || err.code !== "INVALID_OPTIONS") throw err;
 *   console.log("not started by a gateway"); // not started by a gateway
 * }
 * ```
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
