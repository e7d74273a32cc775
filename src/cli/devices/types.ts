/** The `device.pair.*` / `device.token.*` results the CLI reads: the wire schemas' types (src/protocol). */
export type {
  ApproveResult,
  PairedDevice,
  PairList,
  PendingRequest,
  RejectResult,
  RemoveResult,
  RenameResult,
  RevokeResult,
  RotateResult,
  TokenSummary,
} from "../../protocol/devices.js";

/** The two roles a device token can be for. */
export type { GatewayRole as DeviceRole } from "../../protocol/client-info.js";
