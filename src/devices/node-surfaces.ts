/**
 * `node.pair.list|approve|reject|remove`: managing a node's command surface, the second approval
 * layer beside device pairing (C19). Who may approve which surface is the policy's
 * (`policy/node-surface.ts`); this module gathers the facts, asks, and carries out the answer in
 * one transaction with its audit row. Removing a node is device management (the node role ends, and
 * its surface with it), so it goes through the device manager.
 */
import { decideSurfaceApproval, type SurfaceApprovalDecision } from "../policy/node-surface.js";
import { ruleSentence } from "../policy/rules.js";
import { GatewayError } from "../protocol/errors.js";
import type {
  NodePairApproveResult,
  NodePairList,
  NodePairRejectResult,
  NodePairRemoveResult,
  NodeRenameResult,
  PairedNode,
} from "../protocol/node-pairing.js";
import type { Store } from "../store/db.js";
import type { NodeSurfaceRecord, SurfaceRequestRecord } from "../store/node-surfaces.js";
import type { DevicePorts, ManagementCaller } from "./ports.js";
import { pairedNodePayload, surfacePendingPayload, surfaceResolvedPayload } from "./node-payloads.js";

/** Node command-surface operations over one store, beside the device manager that owns the records. */
/**
 * What a surface operation asks of the device manager (a node's surface lives and dies with its
 * device): who may see a device, and the device-management actions a node row maps onto.
 */
export interface DeviceOperations {
  maySee(caller: ManagementCaller, deviceId: string): boolean;
  remove(caller: ManagementCaller, deviceId: string): unknown;
  revoke(caller: ManagementCaller, deviceId: string, role: "node"): unknown;
  rename(caller: ManagementCaller, deviceId: string, label: string): unknown;
}

export class NodeSurfaceManager {
  constructor(
    private readonly devices: DeviceOperations,
    private readonly store: Store,
    private readonly ports: DevicePorts,
    private readonly now: () => number,
  ) {}

  /** `node.pair.list`: pending surface requests (newest first) and pinned surfaces (newest approval first). */
  list(caller: ManagementCaller): NodePairList {
    const may = (deviceId: string) => this.devices.maySee(caller, deviceId);
    const pending = this.store.nodeSurfaces
      .requests()
      .filter((r) => may(r.deviceId))
      .map((r) =>
        surfacePendingPayload(
          r,
          this.store.nodeSurfaces.get(r.deviceId),
          this.store.devices.get(r.deviceId)?.label ?? null,
        ),
      );
    const paired = this.store.nodeSurfaces
      .list()
      .filter((s) => may(s.deviceId))
      .map((s) => this.paired(s));
    return { pending, paired };
  }

  /** `node.pair.approve`: pins exactly the requested surface, if the approver's session covers it. */
  approve(caller: ManagementCaller, requestId: string): NodePairApproveResult {
    const now = this.now();
    const request = this.requireVisible(caller, requestId);
    const decision = decideSurfaceApproval(
      { scopes: caller.authority.scopes, deviceId: caller.authority.deviceId, proof: caller.authority.proof },
      request.deviceId,
      request.commands,
    );
    if (!decision.allow) throw refusal("node pairing approval denied", decision);
    const surface = this.store.transaction(() => {
      // Re-read inside the transaction: approving by id pins exactly what was shown, or nothing.
      const current = this.store.nodeSurfaces.getRequest(requestId);
      if (!current || current.commands.join("\n") !== request.commands.join("\n")) throw unknownRequest();
      const pinned = this.store.nodeSurfaces.pin(
        request.deviceId,
        request.commands,
        "node-approval",
        caller.actor,
        now,
      );
      this.store.audit.append(
        {
          kind: "node-surface",
          decision: "approved",
          deviceId: request.deviceId,
          requestId,
          actor: caller.actor,
          role: "node",
          scopes: decision.requiredScopes,
          reason: request.commands.join(","),
          trace: decision.trace,
        },
        now,
      );
      return pinned;
    });
    this.ports.broadcast(
      "node.pair.resolved",
      surfaceResolvedPayload(requestId, request.deviceId, "approved", surface.commands, now),
    );
    return { requestId, node: this.paired(surface) };
  }

  /** `node.pair.reject`: drops the request; the node keeps the surface approved before, if any. */
  reject(caller: ManagementCaller, requestId: string): NodePairRejectResult {
    const now = this.now();
    const request = this.requireVisible(caller, requestId);
    this.store.transaction(() => {
      if (!this.store.nodeSurfaces.removeRequest(requestId)) throw unknownRequest();
      this.store.audit.append(
        {
          kind: "node-surface",
          decision: "rejected",
          deviceId: request.deviceId,
          requestId,
          actor: caller.actor,
          role: "node",
          reason: request.commands.join(","),
          trace: ["surface-reject-allowed"],
        },
        now,
      );
    });
    const kept = this.store.nodeSurfaces.get(request.deviceId)?.commands ?? null;
    this.ports.broadcast(
      "node.pair.resolved",
      surfaceResolvedPayload(requestId, request.deviceId, "rejected", kept, now),
    );
    return { requestId, nodeId: request.deviceId };
  }

  /**
   * `node.pair.remove`: the device's node role ends and its surface with it. A node-only device is
   * removed; a device that also holds other roles keeps them and loses the node role (revoked).
   * Either is decided by the device-management policy, like `device.pair.remove`/`device.token.revoke`.
   */
  remove(caller: ManagementCaller, nodeId: string): NodePairRemoveResult {
    const device = this.store.devices.get(nodeId);
    if (!device || !device.roles.includes("node")) {
      throw new GatewayError("INVALID_PARAMS", { message: "unknown nodeId", details: { nodeId } });
    }
    try {
      if (device.roles.every((r) => r === "node")) this.devices.remove(caller, nodeId);
      else this.devices.revoke(caller, nodeId, "node");
    } catch (err) {
      if (err instanceof GatewayError && (err.code === "MISSING_SCOPE" || err.code === "FORBIDDEN_ACTION")) {
        throw new GatewayError(err.code, {
          message: err.message.replace(/^[^:]*:/, "node pairing removal denied:"),
          details: err.details,
        });
      }
      throw err;
    }
    this.ports.broadcast(
      "node.pair.resolved",
      surfaceResolvedPayload("", nodeId, "removed", null, this.now()),
    );
    return { nodeId };
  }

  /**
   * `node.rename`: the node's name is its device's label, so renaming is device management
   * (`device.pair.rename`'s policy: a node row needs operator.admin unless the owner on the host asks).
   */
  rename(caller: ManagementCaller, nodeId: string, displayName: string): NodeRenameResult {
    const device = this.store.devices.get(nodeId);
    if (!device || !device.roles.includes("node")) {
      throw new GatewayError("INVALID_PARAMS", { message: "unknown nodeId", details: { nodeId } });
    }
    if (displayName === "") {
      throw new GatewayError("INVALID_PARAMS", {
        message: "displayName required",
        details: { field: "displayName" },
      });
    }
    try {
      this.devices.rename(caller, nodeId, displayName);
    } catch (err) {
      if (err instanceof GatewayError && (err.code === "MISSING_SCOPE" || err.code === "FORBIDDEN_ACTION")) {
        throw new GatewayError(err.code, {
          message: err.message.replace(/^[^:]*:/, "node rename denied:"),
          details: err.details,
        });
      }
      throw err;
    }
    return { nodeId, displayName };
  }

  private paired(s: NodeSurfaceRecord): PairedNode {
    return pairedNodePayload(s, this.store.devices.get(s.deviceId), this.ports.isConnected(s.deviceId));
  }

  /** The request, if it exists and the caller may see its device (a token session: its own only). */
  private requireVisible(caller: ManagementCaller, requestId: string): SurfaceRequestRecord {
    const request = this.store.nodeSurfaces.getRequest(requestId);
    if (!request || !this.devices.maySee(caller, request.deviceId)) throw unknownRequest();
    return request;
  }
}

/** OpenClaw's exact message (its CLI matches on it), with what else it may mean in the details. */
function unknownRequest(): GatewayError {
  return new GatewayError("INVALID_PARAMS", {
    message: "unknown requestId",
    details: {
      reason: "unknown-node-surface-request",
      hint: "it may have been resolved, or superseded by a newer request from the same node; see: gatehouse nodes pending",
    },
  });
}

/** MISSING_SCOPE (with what is missing and what approving needs) or FORBIDDEN_ACTION. */
function refusal(what: string, decision: Extract<SurfaceApprovalDecision, { allow: false }>): GatewayError {
  const missing = decision.missingScopes;
  const lacks = missing.length > 0 ? ` (caller lacks ${missing.join(", ")})` : "";
  return new GatewayError(decision.code, {
    message: `${what}: ${ruleSentence(decision.rule)}${lacks}`,
    details: {
      rule: decision.rule,
      requiredScopes: [...decision.requiredScopes],
      ...(missing.length > 0 ? { missingScope: missing[0] } : {}),
    },
  });
}
