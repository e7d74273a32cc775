/**
 * `gatehouse-gateway/client`: a {@link GatewayClient} for OpenClaw gateway protocol 4, device
 * identities and device-token stores, and {@link connectFromEnv} for work a gateway spawns.
 *
 * @module
 */
export {
  GatewayClient,
  type GatewayClientAuth,
  type GatewayClientEvents,
  type GatewayClientOptions,
  type GatewayClientState,
  type GatewayEvent,
  type ReconnectingInfo,
  type RequestOptions,
} from "./client.js";
export type { CloseInfo } from "./connection.js";
export type { ClientInfoInput } from "./connect-params.js";
export type { ReconnectOptions } from "./backoff.js";
export { GatewayClientError, type ClientErrorCode } from "./errors.js";
export {
  connectFromEnv,
  readRuntimeEnv,
  RUNTIME_ENV,
  type ConnectFromEnvOptions,
  type RuntimeEnv,
} from "./from-env.js";
export {
  FileDeviceTokenStore,
  MemoryDeviceTokenStore,
  type DeviceTokenEntry,
  type DeviceTokenStore,
} from "./token-store.js";
export { isLoopbackUrl } from "./url-safety.js";
export { gatewayKey, KnownGatewayStore, type KnownGateway } from "./known-gateways.js";
export { TlsPinError } from "./tls-pin.js";
export { WebSocketError, type WebSocketErrorCode } from "../websocket/errors.js";
export { deviceIdFromPublicKey, loadDeviceIdentity, loadOrCreateDeviceIdentity } from "./identity.js";
export type { DeviceIdentity } from "../identity/keys.js";
export { IdentityError, type IdentityErrorCode } from "../identity/errors.js";
