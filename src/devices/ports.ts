/**
 * What device management needs from its surroundings, apart from the store: a running gateway's
 * events and sessions (or none, offline), and who is asking. Its own module so the managers that
 * share it (devices, node command surfaces) depend on it and not on each other.
 */
import type { CallerAuthority } from "../policy/device-management.js";
import type { GatewayRole } from "../protocol/client-info.js";
import type { DeviceEventPayloads } from "../protocol/devices.js";
import type { NodePairEventPayloads } from "../protocol/node-pairing.js";

/** Every event device management sends: device pairing and node command surfaces. */
export type PairingEventPayloads = DeviceEventPayloads & NodePairEventPayloads;

/** Which live sessions of a device a change ends. */
export interface CloseSelector {
  deviceId: string;
  /** Only sessions of this role; null: every role. */
  role: GatewayRole | null;
  /** Only sessions that authenticated with the device's token (a rotation ends nothing else). */
  tokenSessionsOnly?: boolean;
  /** The caller's own connection stays open. */
  exceptConnId?: string;
}

/** What device management needs from a running gateway; the offline CLI passes {@link OFFLINE_PORTS}. */
export interface DevicePorts {
  /** Sends a device event to the sessions its audience names (policy/events.ts: approvers, and a node of its own resolution). */
  broadcast<E extends keyof PairingEventPayloads>(event: E, payload: PairingEventPayloads[E]): void;
  /** Closes the selected live sessions with 4001; returns how many. */
  closeSessions(select: CloseSelector, reason: string): number;
  /** Is any session of this device open right now? */
  isConnected(deviceId: string): boolean;
  /**
   * A device's authority ended: the runtime ends the sessions resting on it and unschedules the
   * cron jobs that the store has just disabled (`disabledJobs`).
   */
  authorityRevoked(deviceId: string, reason: string, disabledJobs: readonly string[]): void;
}

/**
 * No gateway is running: nobody to tell, nothing to close. What rests on a device in the store
 * (runtime tokens, cron jobs, setup codes) is still ended; sessions left running by the stopped
 * gateway are marked lost at its next start.
 */
export const OFFLINE_PORTS: DevicePorts = {
  broadcast() {},
  closeSessions: () => 0,
  isConnected: () => false,
  authorityRevoked() {},
};

/** Who asks: the policy's view of the caller, and how the audit log names it. */
export interface ManagementCaller {
  authority: CallerAuthority;
  /** `device:<id>`, `<client id>/<mode>`, or `cli-offline`. */
  actor: string;
  /** Trusted-proxy mode: the user the proxy vouched for on the caller's connection. */
  proxyUser?: string;
  /** The caller's own connection (kept open when it rotates its own token). */
  connId?: string;
  /** The session a runtime-token caller runs as: what it mints rests on that session. */
  runtimeJobId?: string | null;
}
