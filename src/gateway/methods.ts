/** The method registry: handlers by name, called only after the role and scope checks pass. */
import type { Credential } from "../policy/admission.js";
import type { WireEventName } from "../protocol/events.js";
import type { GatewayRole } from "../protocol/client-info.js";
import type { DeviceManager } from "../devices/manager.js";
import type { PairingService } from "./pairing.js";

/** A live admitted connection, as handlers and services may use it. */
export interface ConnectionHandle {
  readonly connId: string;
  readonly role: GatewayRole;
  readonly deviceId: string | null;
  readonly scopes: readonly string[];
  readonly client: { id: string; mode: string; version: string; platform: string; displayName?: string };
  /** The `commands` the client offered at connect (node hosts). */
  readonly commands: readonly string[];
  /** Sends an event to this connection (dropped if it is closed or too slow). */
  sendEvent(event: WireEventName, payload?: unknown): void;
}

/** What a handler knows about its caller and the gateway. */
export interface MethodContext {
  /** The calling connection. */
  conn: ConnectionHandle;
  connId: string;
  role: GatewayRole;
  scopes: readonly string[];
  client: { id: string; mode: string; version: string; platform: string };
  deviceId: string | null;
  /** How the caller proved itself (owner-key, device-token, token, password, none, runtime-token). */
  authMethod: Credential;
  /**
   * Direct-local without a browser Origin: loopback peer, loopback Host, no forwarding headers. With
   * the owner key or the shared secret, that is the owner on the gateway host.
   */
  onHost: boolean;
  /** The job (session id) a runtime-token caller runs as; null otherwise. */
  runtimeJobId: string | null;
  /** Trusted-proxy mode: the user the proxy vouched for on this connection; null otherwise. */
  proxyUser: string | null;
  gateway: GatewayInfo;
  pairing: PairingService;
  /** Device management (`device.pair.*`, `device.token.*`, setup codes). */
  devices: DeviceManager;
}

/** Read-only view of the running gateway for handlers. */
export interface GatewayInfo {
  version: string;
  startedAtMs: number;
  now(): number;
  urls(): string[];
  bind(): { hosts: string[]; port: number };
  authMode(): string;
  /** SHA-256 of the gateway's TLS certificate (hex, lower case) when it serves wss://; else null. */
  tlsFingerprint(): string | null;
  connections(): readonly ConnectionSummary[];
}

export interface ConnectionSummary {
  connId: string;
  role: GatewayRole;
  clientId: string;
  clientMode: string;
  deviceId: string | null;
  clientIp: string | null;
  connectedAtMs: number;
}

export type MethodHandler = (ctx: MethodContext, params: unknown) => unknown | Promise<unknown>;

export type MethodTable = Readonly<Record<string, MethodHandler>>;
