/** The gateway's RPC handlers by namespace. */
import type { MethodTable } from "../gateway/methods.js";
import { deviceMethods } from "./device.js";
import { health } from "./health.js";
import { nodePairingMethods } from "./node-pairing.js";
import { nodeReportMethods } from "./node-reports.js";
import { openClawCompatMethods } from "./openclaw-compat.js";
import { setupCodeMethods } from "./setup-code.js";
import { status } from "./status.js";

/** Methods every gateway serves. */
export const coreMethods: MethodTable = {
  health,
  status,
  ...deviceMethods,
  ...nodePairingMethods,
  ...setupCodeMethods,
  ...openClawCompatMethods,
  ...nodeReportMethods,
};
