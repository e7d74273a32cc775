/** `gatehouse/client`: a GatewayClient for OpenClaw gateway protocol 4. */
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
