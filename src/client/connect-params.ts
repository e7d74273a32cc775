/**
 * Builds the `connect` params, signing the v3 device payload over exactly the fields sent, so the
 * gateway can rebuild the same string from the frame alone.
 */
import { isClientMode, normalizeClientId, type GatewayRole } from "../protocol/client-info.js";
import type { ConnectAuth, ConnectParams } from "../protocol/connect.js";
import { buildSignaturePayloadV3, signedToken } from "../protocol/signature-payload.js";
import { signPayload, type DeviceIdentity } from "../identity/keys.js";
import { GatewayClientError } from "./errors.js";
import { GATEHOUSE_VERSION } from "../version.js";

export type ClientInfo = ConnectParams["client"];

/**
 * What a client says about itself at connect; everything has a default (`cli`/`cli`, this
 * package's version, `process.platform`). `id` and `mode` must be protocol client ids and modes.
 *
 * @example
 * ```ts
 * import { GatewayClient, type ClientInfoInput } from "gatehouse-gateway/client";
 *
 * const backend: ClientInfoInput = { id: "gateway-client", mode: "backend", displayName: "billing worker" };
 * const client = new GatewayClient({ url: "ws://127.0.0.1:18789", client: backend });
 * console.log(client.state); // idle
 * ```
 */
export interface ClientInfoInput {
  id?: string;
  version?: string;
  platform?: string;
  mode?: string;
  displayName?: string;
  deviceFamily?: string;
  modelIdentifier?: string;
  instanceId?: string;
}

/** Fills client defaults (`cli`/`cli`, this package's version, `process.platform`) and checks ids. */
export function resolveClientInfo(input: ClientInfoInput = {}): ClientInfo {
  const id = normalizeClientId(input.id ?? "cli");
  if (!id) throw new GatewayClientError("INVALID_OPTIONS", `unknown client id ${JSON.stringify(input.id)}`);
  const mode = input.mode ?? "cli";
  if (!isClientMode(mode))
    throw new GatewayClientError("INVALID_OPTIONS", `unknown client mode ${JSON.stringify(mode)}`);
  const info: ClientInfo = {
    id,
    version: input.version ?? GATEHOUSE_VERSION,
    platform: input.platform ?? process.platform,
    mode,
  };
  if (input.displayName !== undefined) info.displayName = input.displayName;
  if (input.deviceFamily !== undefined) info.deviceFamily = input.deviceFamily;
  if (input.modelIdentifier !== undefined) info.modelIdentifier = input.modelIdentifier;
  if (input.instanceId !== undefined) info.instanceId = input.instanceId;
  return info;
}

export interface ConnectParamsInput {
  client: ClientInfo;
  role: GatewayRole;
  scopes: readonly string[];
  /** Commands a node host offers; sent as given, not signed. */
  commands?: readonly string[] | undefined;
  minProtocol: number;
  maxProtocol: number;
  /** Credentials to present; empty fields are dropped. */
  auth: ConnectAuth;
  identity?: DeviceIdentity | undefined;
  /** From the server's `connect.challenge`. */
  nonce: string;
  signedAtMs: number;
}

/** The `connect` params; device-less unless an identity is given. */
export function buildConnectParams(input: ConnectParamsInput): ConnectParams {
  const auth = compactAuth(input.auth);
  const params: ConnectParams = {
    minProtocol: input.minProtocol,
    maxProtocol: input.maxProtocol,
    client: input.client,
    role: input.role,
    scopes: [...input.scopes],
  };
  if (input.commands) params.commands = [...input.commands];
  if (auth) params.auth = auth;
  if (input.identity) {
    const payload = buildSignaturePayloadV3({
      deviceId: input.identity.deviceId,
      clientId: input.client.id,
      clientMode: input.client.mode,
      role: input.role,
      scopes: input.scopes,
      signedAtMs: input.signedAtMs,
      token: signedToken(auth),
      nonce: input.nonce,
      platform: input.client.platform,
      deviceFamily: input.client.deviceFamily,
    });
    params.device = {
      id: input.identity.deviceId,
      publicKey: input.identity.publicKey,
      signature: signPayload(input.identity, payload),
      signedAt: input.signedAtMs,
      nonce: input.nonce,
    };
  }
  return params;
}

/** Drops empty credentials: an empty `token` would still occupy the signed token slot. */
function compactAuth(auth: ConnectAuth): ConnectAuth | undefined {
  const out: ConnectAuth = {};
  for (const [k, v] of Object.entries(auth) as [keyof ConnectAuth, string | undefined][]) {
    if (typeof v === "string" && v.length > 0) out[k] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
