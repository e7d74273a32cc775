/**
 * `gatehouse-gateway/client/env`: what a process a gateway started (a sub-agent session, a cron
 * run) needs to call back — {@link connectFromEnv}, the client it returns and its errors — and
 * nothing else. `gatehouse-gateway/client` exports the same and more (device identities, file token
 * stores, known gateways), which a runtime-token child never uses but would load and parse on every
 * start: about a seventh of a call-back's cost over bare Node (bench/README.md).
 *
 * @module
 */
export {
  connectFromEnv,
  readRuntimeEnv,
  RUNTIME_ENV,
  type ConnectFromEnvOptions,
  type RuntimeEnv,
} from "./from-env.js";
export {
  GatewayClient,
  type GatewayClientEvents,
  type GatewayClientOptions,
  type GatewayEvent,
  type RequestOptions,
} from "./client.js";
export { GatewayClientError, type ClientErrorCode } from "./errors.js";
