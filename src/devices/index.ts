/** Device management below the gateway: the RPC handlers and the offline CLI share it. */
export { DeviceManager, OFFLINE_PORTS, type DevicePorts, type MintRequest } from "./manager.js";
export { knownRoles, pairedPayload, pendingPayload, tokenSummaries } from "./payloads.js";
