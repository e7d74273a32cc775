/**
 * `gatehouse-gateway/protocol`: the wire contract of OpenClaw gateway protocol 4 as Gatehouse
 * speaks it — version, roles, scopes, error and close codes, frame types and their validators —
 * for code that talks to a gateway without {@link GatewayClient}. The same schemas are published
 * as JSON Schema files under `gatehouse-gateway/schemas/*`.
 *
 * @module
 */
export { PROTOCOL_VERSION } from "./version.js";
export { GATEWAY_ROLES, type GatewayRole } from "./client-info.js";
export { OPERATOR_SCOPES, type OperatorScope } from "./scopes.js";
export { CLOSE_CODES, WIRE_ERROR_CODES, type ErrorShape, type WireErrorCode } from "./errors.js";
export type { EventFrame, RequestFrame, ResponseFrame } from "./frames.js";
export type { ConnectParams, HelloOk } from "./connect.js";
export {
  validateConnectParams,
  validateEventFrame,
  validateHelloOk,
  validateRequestFrame,
  validateResponseFrame,
  type Validation,
} from "./validate.js";
