/** The shapes of the `device.pair.*` / `device.token.*` results (reference §6.1) as the CLI reads them. */

/** A pending pairing request (`device.pair.list` → `pending[]`). */
export interface PendingRequest {
  requestId: string;
  deviceId: string;
  publicKey: string;
  reason: string;
  roles: string[];
  role?: string;
  scopes: string[];
  displayName?: string | null;
  clientId?: string | null;
  clientMode?: string | null;
  platform?: string | null;
  deviceFamily?: string | null;
  remoteIp?: string | null;
  isRepair: boolean;
  /** When this exact ask was first made. */
  ts: number;
  refreshedAtMs?: number;
  expiresAtMs?: number;
}

/** A device token summary: never the token itself. */
export interface TokenSummary {
  role: string;
  scopes: string[];
  createdAtMs: number;
  rotatedAtMs?: number | null;
  revokedAtMs?: number | null;
  lastUsedAtMs?: number | null;
}

/** A paired device (`device.pair.list` → `paired[]`, `device.pair.approve` → `device`). */
export interface PairedDevice {
  deviceId: string;
  publicKey: string;
  displayName?: string | null;
  label?: string | null;
  clientId?: string | null;
  clientMode?: string | null;
  platform?: string | null;
  deviceFamily?: string | null;
  roles: string[];
  scopes: string[];
  approvedVia: string;
  owner: boolean;
  createdAtMs: number;
  approvedAtMs: number;
  lastSeenAtMs?: number | null;
  lastSeenIp?: string | null;
  tokens: TokenSummary[];
  connected: boolean;
}

export interface PairList {
  pending: PendingRequest[];
  paired: PairedDevice[];
}

export interface ApproveResult {
  requestId: string;
  device: PairedDevice;
}

export interface RejectResult {
  requestId: string;
  deviceId: string;
}

export interface RemoveResult {
  deviceId: string;
}

export interface RenameResult {
  deviceId: string;
  label: string;
}

export interface RotateResult {
  deviceId: string;
  role: string;
  scopes: string[];
  rotatedAtMs: number;
  tokenDelivery: "in-band" | "withheld-cross-device";
  /** Only when the caller is the device itself; the CLI stores it and never prints it. */
  token?: string;
}

export interface RevokeResult {
  deviceId: string;
  role: string;
  revokedAtMs: number;
}

/** The two roles a device token can be for. */
export type DeviceRole = "operator" | "node";
