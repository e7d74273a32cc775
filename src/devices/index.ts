/** Device management below the gateway: the RPC handlers and the offline CLI share it. */
export {
  DeviceManager,
  OFFLINE_PORTS,
  STATE_DIR_OWNER,
  type CloseSelector,
  type DevicePorts,
  type ManagementCaller,
  type MintRequest,
} from "./manager.js";
export { knownRoles, pairedPayload, pendingPayload, tokenSummaries } from "./payloads.js";
