/**
 * The facts the policy's management decision reads, gathered from what `device.pair.list` shows:
 * the CLI asks the policy which scopes an action needs (policy/client-asks.ts) with the same facts
 * the gateway decides it on.
 */
import type { AskedAction } from "../../policy/client-asks.js";
import {
  proofOf,
  type CallerProof,
  type RequestFacts,
  type TargetDevice,
} from "../../policy/device-management.js";
import type { Credential } from "../../policy/admission-facts.js";
import { sameKey } from "../../store/keys.js";
import type { PairedDevice, PairList, PendingRequest } from "./types.js";

/**
 * A management action with the device record it is decided against (null: none paired), or the
 * scopes the gateway itself stated the action needs.
 */
export type ManagementAsk =
  { action: AskedAction; target: TargetDevice | null } | { stated: readonly string[] };

/** The policy's view of a listed device. */
export function targetOf(d: PairedDevice): TargetDevice {
  return {
    deviceId: d.deviceId,
    owner: d.owner,
    roles: d.roles,
    scopes: d.scopes,
    tokens: Object.fromEntries(
      d.tokens.map((t) => [
        t.role,
        { revoked: t.revokedAtMs !== null && t.revokedAtMs !== undefined, scopes: t.scopes },
      ]),
    ),
  };
}

/** The policy's view of a listed request, and its device's record when it has one. */
export function requestAsk(
  kind: "approve" | "reject",
  request: PendingRequest,
  list: PairList,
): ManagementAsk {
  const record = list.paired.find((d) => d.deviceId === request.deviceId);
  const facts: RequestFacts = {
    deviceId: request.deviceId,
    roles: request.roles,
    scopes: request.scopes,
    sameKeyAsRecord: record !== undefined && sameKey(record.publicKey, request.publicKey),
  };
  return { action: { kind, request: facts }, target: record ? targetOf(record) : null };
}

const CREDENTIALS: ReadonlySet<string> = new Set<Credential>([
  "owner-key",
  "setup-code",
  "device-token",
  "token",
  "password",
  "none",
  "runtime-token",
  "trusted-proxy",
]);

const isCredential = (method: string): method is Credential => CREDENTIALS.has(method);

/**
 * The proof a session's `auth.method` stands for. A gateway that does not say (OpenClaw) is
 * taken at what the CLI presented: the shared secret when it sent one, else its device token.
 */
export function callerProof(method: string | undefined, sentSharedSecret: boolean): CallerProof {
  if (method !== undefined && isCredential(method)) return proofOf(method);
  return sentSharedSecret ? "shared-secret" : "device-token";
}

/**
 * Removing a node (`node.pair.remove`) removes a node-only device and revokes the node role of a
 * device that holds other roles too: the same management action the gateway decides it as.
 */
export function nodeRemoveAsk(list: PairList, nodeId: string): ManagementAsk {
  const device = list.paired.find((d) => d.deviceId === nodeId);
  if (!device) return { action: { kind: "remove" }, target: null };
  const nodeOnly = device.roles.every((r) => r === "node");
  return {
    action: nodeOnly ? { kind: "remove" } : { kind: "revoke", role: "node" },
    target: targetOf(device),
  };
}
