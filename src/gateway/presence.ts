/**
 * The `presence` event: who is connected, by role, sent whenever an admitted session opens or
 * closes, so dashboards (the Control UI) follow it without polling. It goes to browser UI sessions
 * holding `operator.read` only — CLI and SDK clients' event streams stay as they were — and changes
 * are coalesced: one event per burst of connects, never one per connect per listener.
 */
import type { GatewayRole } from "../protocol/client-info.js";
import type { ConnectionSummary } from "./methods.js";

/** How long a burst of opens/closes is gathered into one event. */
export const PRESENCE_COALESCE_MS = 100;

export interface PresencePayload {
  ts: number;
  total: number;
  byRole: Record<GatewayRole, number>;
  /** Devices with at least one open session. */
  deviceIds: string[];
}

export function presencePayload(connections: readonly ConnectionSummary[], ts: number): PresencePayload {
  const byRole: Record<GatewayRole, number> = { operator: 0, node: 0 };
  const devices = new Set<string>();
  for (const c of connections) {
    byRole[c.role] += 1;
    if (c.deviceId) devices.add(c.deviceId);
  }
  return { ts, total: connections.length, byRole, deviceIds: [...devices].sort() };
}

/** Schedules a coalesced `presence` broadcast after each change. */
export class PresenceNotifier {
  private timer: NodeJS.Timeout | null = null;

  /**
   * `send` is given the payload as a function: it is built (a summary of every open session) only
   * when some session is to hear it, not ten times a second for a gateway without a Control UI open.
   */
  constructor(
    private readonly connections: () => readonly ConnectionSummary[],
    private readonly send: (payload: () => PresencePayload) => void,
    private readonly now: () => number,
  ) {}

  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.send(() => presencePayload(this.connections(), this.now()));
    }, PRESENCE_COALESCE_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
