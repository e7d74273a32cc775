/**
 * `gatehouse devices list|approve|reject|remove|rename|rotate|revoke`. Every change targets one
 * exact request or device (C12: no implicit "latest") and runs with the least privilege it needs:
 * the policy derives the scopes a change requires from the gateway's own management rules, and
 * the session never asks for more than this device was approved for (asking would open an upgrade
 * request for the approving device itself, S46).
 */
import type { GatewayRole } from "../../protocol/client-info.js";
import type { CommonOptions } from "../connect.js";
import {
  openDevicesBackend,
  scopeUnion,
  type DevicesBackend,
  type DevicesCommand,
} from "../devices/backend.js";
import { deviceName, formatList, formatPendingList, pendingChoices, shortId } from "../devices/format.js";
import { requestAsk, targetOf } from "../devices/management-facts.js";
import type { DeviceRole, PairedDevice, PairList, PendingRequest } from "../devices/types.js";
import { approveCommand, CliError, EXIT, listOrNone, type Reporter } from "../output.js";

export interface DeviceTargetOptions extends CommonOptions {
  device?: string;
}

export interface RenameOptions extends DeviceTargetOptions {
  name?: string;
}

export interface RoleOptions extends DeviceTargetOptions {
  role?: string;
  scope?: string[];
}

/** Shortest device-id prefix accepted. */
export const MIN_PREFIX = 8;

async function withBackend(
  opts: CommonOptions,
  fn: (b: DevicesBackend) => Promise<number>,
  asked?: DevicesCommand,
): Promise<number> {
  const backend = await openDevicesBackend(opts, asked);
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

/** The note added when this session cannot see other devices (the gateway listed only its own). */
function visibilityNote(backend: DevicesBackend): string {
  if (backend.seesOthers()) return "";
  return "; note that a device-token session without operator.admin sees only its own device";
}

/** Resolves a full id or a unique prefix (≥ 8 hex characters) among the paired devices. */
export function resolveDevice(list: PairList, given: string, note = ""): PairedDevice {
  const id = given.trim().toLowerCase();
  const exact = list.paired.find((d) => d.deviceId === id);
  if (exact) return exact;
  if (id.length < MIN_PREFIX || !/^[0-9a-f]+$/.test(id)) {
    throw new CliError(
      "INVALID_DEVICE_ID",
      `--device ${JSON.stringify(given)}: give the full device id or a prefix of at least ${MIN_PREFIX} hex characters`,
      EXIT.usage,
      "see the ids with: gatehouse devices list",
    );
  }
  const matches = list.paired.filter((d) => d.deviceId.startsWith(id));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) {
    throw new CliError(
      "DEVICE_NOT_FOUND",
      `no paired device matches ${given}${note}`,
      EXIT.failed,
      "see the paired devices with: gatehouse devices list",
    );
  }
  throw new CliError(
    "AMBIGUOUS_DEVICE_ID",
    `${given} matches ${matches.length} devices; give more characters`,
    EXIT.usage,
    undefined,
    {
      lines: matches.map((d) => `  ${d.deviceId}  ${deviceName(d)}`),
      fields: { matches: matches.map((d) => d.deviceId) },
    },
  );
}

/** ` on the browser page <origin>` for a request a browser page made; empty otherwise. */
function pageOf(request: PendingRequest): string {
  return request.browserOrigin ? ` on the browser page ${request.browserOrigin}` : "";
}

function findPending(list: PairList, requestId: string, note: string): PendingRequest {
  const request = list.pending.find((p) => p.requestId === requestId);
  if (request) return request;
  throw new CliError(
    "UNKNOWN_REQUEST",
    `no pending request ${requestId}: it may have expired, been superseded by a newer request from the same device, or already been resolved${note}`,
    EXIT.failed,
    "see the current requests with: gatehouse devices list",
  );
}

/**
 * The pending request `requestId` to approve or reject, once this session holds what the gateway's
 * rules need for that (`require` may widen a silently approved device first, or refuses).
 */
async function pendingToDecide(
  backend: DevicesBackend,
  list: PairList,
  requestId: string,
  kind: "approve" | "reject",
): Promise<PendingRequest> {
  const request = findPending(list, requestId, visibilityNote(backend));
  await backend.require(
    requestAsk(kind, request, list),
    list,
    `${kind === "approve" ? "approving" : "rejecting"} request ${requestId}`,
    `gatehouse devices ${kind} ${requestId}`,
  );
  return request;
}

function requireRole(role: string | undefined): DeviceRole {
  if (role === "operator" || role === "node") return role;
  throw new CliError(
    "INVALID_FLAG",
    role === undefined
      ? "--role is required (operator or node)"
      : `--role: must be operator or node (got ${JSON.stringify(role)})`,
    EXIT.usage,
  );
}

function requireDeviceFlag(device: string | undefined): string {
  if (device && device.trim()) return device;
  throw new CliError(
    "MISSING_ARGUMENT",
    "a device id is required (the first argument, or a unique prefix of at least 8 characters)",
    EXIT.usage,
    "see the ids with: gatehouse devices list",
  );
}

/** The role to act on: the one given, or the device's only role. */
function roleOf(
  device: { deviceId: string; roles: readonly string[] },
  given: string | undefined,
): DeviceRole {
  if (given !== undefined) return requireRole(given);
  const roles = (["operator", "node"] as const).filter((r) => device.roles.includes(r));
  if (roles.length === 1) return roles[0]!;
  throw new CliError(
    "INVALID_FLAG",
    roles.length === 0
      ? `device ${shortId(device.deviceId)} holds no role to act on`
      : `device ${shortId(device.deviceId)} has the roles ${roles.join(" and ")}: say which with --role`,
    EXIT.usage,
  );
}

/** What listing is, for a refusal: the list is `device.pair.list`, which every devices command reads first. */
const LISTING: DevicesCommand = { action: "listing devices", command: "gatehouse devices list" };

/** `devices list`: pending requests and paired devices; `--json` prints the RPC result. */
export async function devicesList(opts: CommonOptions, out: Reporter): Promise<number> {
  return withBackend(
    opts,
    async (backend) => {
      const list = await backend.list();
      out.result(list, () => formatList(list, Date.now()));
      return EXIT.ok;
    },
    LISTING,
  );
}

/** `devices pending`: only the pending requests; `--json` prints `{ pending }` as the RPC returns it. */
export async function devicesPending(opts: CommonOptions, out: Reporter): Promise<number> {
  return withBackend(
    opts,
    async (backend) => {
      const list = await backend.list();
      out.result({ pending: list.pending }, () => formatPendingList(list, Date.now()).join("\n"));
      return EXIT.ok;
    },
    { action: "listing pending requests", command: "gatehouse devices pending" },
  );
}

/** `devices approve <requestId>`: exactly that request, granting exactly what it asked for. */
export async function devicesApprove(
  requestId: string | undefined,
  opts: CommonOptions,
  out: Reporter,
): Promise<number> {
  return withBackend(opts, async (backend) => {
    const list = await backend.list();
    if (!requestId) {
      const none = list.pending.length === 0;
      throw new CliError(
        "REQUEST_ID_REQUIRED",
        none
          ? "approve needs the exact requestId of a pending request, and there are none right now"
          : `approve needs the exact requestId; there is no implicit "latest". Pending requests (${list.pending.length}):`,
        EXIT.usage,
        undefined,
        {
          lines: pendingChoices(list, Date.now()),
          fields: {
            pending: list.pending.map((p) => ({
              requestId: p.requestId,
              deviceId: p.deviceId,
              ...(p.browserOrigin ? { browserOrigin: p.browserOrigin } : {}),
              roles: p.roles,
              scopes: p.scopes,
              approveCommand: approveCommand(p.requestId),
            })),
          },
        },
      );
    }
    const request = await pendingToDecide(backend, list, requestId, "approve");
    const result = await backend.approve(requestId);
    const d = result.device;
    out.result(result, () =>
      [
        `approved request ${requestId}: device ${deviceName(d)} (${shortId(d.deviceId)})${pageOf(request)} was granted roles ${listOrNone(request.roles)}; scopes ${listOrNone(request.scopes)}`,
        `  now approved: roles ${listOrNone(d.roles)}; scopes ${listOrNone(d.scopes)}`,
        ...(request.commands
          ? [
              `  node command surface pinned: ${listOrNone(request.commands)} (wider ones: gatehouse nodes pending)`,
            ]
          : []),
      ].join("\n"),
    );
    return EXIT.ok;
  });
}

/** `devices reject <requestId>`: drops the request; the device keeps what it had. */
export async function devicesReject(requestId: string, opts: CommonOptions, out: Reporter): Promise<number> {
  return withBackend(opts, async (backend) => {
    const list = await backend.list();
    const request = await pendingToDecide(backend, list, requestId, "reject");
    const result = await backend.reject(requestId);
    out.result(
      result,
      () =>
        `rejected request ${requestId} from device ${deviceName(request)} (${shortId(request.deviceId)})${pageOf(request)}`,
    );
    return EXIT.ok;
  });
}

/** `devices remove <deviceId>`: unpairs the device, drops its tokens, closes its sessions. */
export async function devicesRemove(given: string, opts: CommonOptions, out: Reporter): Promise<number> {
  return withBackend(opts, async (backend) => {
    const list = await backend.list();
    const device = resolveDevice(list, given, visibilityNote(backend));
    const isSelf = backend.self?.identity.deviceId === device.deviceId;
    await backend.require(
      { action: { kind: "remove" }, target: targetOf(device) },
      list,
      `removing device ${shortId(device.deviceId)}`,
      `gatehouse devices remove ${device.deviceId}`,
    );
    const result = await backend.remove(device.deviceId);
    if (isSelf) forgetOwnTokens(backend, device.roles);
    out.result(
      result,
      () =>
        `removed device ${deviceName(device)} (${shortId(device.deviceId)}); it must pair again to connect`,
    );
    return EXIT.ok;
  });
}

/** `devices rename --device <id> --name <label>`. */
export async function devicesRename(opts: RenameOptions, out: Reporter): Promise<number> {
  const given = requireDeviceFlag(opts.device);
  const label = (opts.name ?? "").trim();
  if (label.length === 0 || label.length > 64) {
    throw new CliError("INVALID_FLAG", "--name: a label of 1 to 64 characters is required", EXIT.usage);
  }
  return withBackend(opts, async (backend) => {
    const list = await backend.list();
    const device = resolveDevice(list, given, visibilityNote(backend));
    await backend.require(
      { action: { kind: "rename" }, target: targetOf(device) },
      list,
      `renaming device ${shortId(device.deviceId)}`,
      `gatehouse devices rename --device ${device.deviceId} --name ${JSON.stringify(label)}`,
    );
    const result = await backend.rename(device.deviceId, label);
    out.result(result, () => `renamed device ${shortId(device.deviceId)} to ${JSON.stringify(result.label)}`);
    return EXIT.ok;
  });
}

/**
 * `devices rotate --device <id> --role <role> [--scope s]...`: a new token; the old one stops
 * working. A token is only ever returned for this CLI's own device, and then stored, not printed.
 */
export async function devicesRotate(opts: RoleOptions, out: Reporter): Promise<number> {
  const given = requireDeviceFlag(opts.device);
  const role = requireRole(opts.role);
  const scopes = opts.scope && opts.scope.length > 0 ? scopeUnion(opts.scope) : undefined;
  return withBackend(opts, async (backend) => {
    const list = await backend.list();
    const device = resolveDevice(list, given, visibilityNote(backend));
    await backend.require(
      { action: { kind: "rotate", role, ...(scopes ? { scopes } : {}) }, target: targetOf(device) },
      list,
      `rotating the ${role} token of device ${shortId(device.deviceId)}`,
      `gatehouse devices rotate --device ${device.deviceId} --role ${role}${(scopes ?? []).map((s) => ` --scope ${s}`).join("")}`,
    );
    const result = await backend.rotate(device.deviceId, role, scopes);
    const { token, ...shown } = result;
    let stored: string | undefined;
    const self = backend.self;
    if (token !== undefined && self && result.deviceId === self.identity.deviceId) {
      self.tokenStore.set(result.deviceId, result.role, {
        token,
        role: result.role,
        scopes: [...result.scopes],
        issuedAtMs: result.rotatedAtMs,
      });
      stored = self.tokenStore.path;
    }
    out.result({ ...shown, ...(stored ? { tokenStoredIn: stored } : {}) }, () =>
      [
        `rotated the ${role} token of device ${deviceName(device)} (${shortId(device.deviceId)}): scopes ${listOrNone(result.scopes)}`,
        result.tokenDelivery === "in-band"
          ? `  token delivery: in-band${stored ? ` — this device's new token was stored in ${stored}` : ""}`
          : "  token delivery: withheld-cross-device — the old token stops working; the device gets its new token on its next connect",
      ].join("\n"),
    );
    return EXIT.ok;
  });
}

/** `devices revoke --device <id> --role <role>`: that role's token never admits again. */
export async function devicesRevoke(opts: RoleOptions, out: Reporter): Promise<number> {
  const given = requireDeviceFlag(opts.device);
  if (opts.role !== undefined) requireRole(opts.role);
  return withBackend(opts, async (backend) => {
    const list = await backend.list();
    const device = resolveDevice(list, given, visibilityNote(backend));
    const role = roleOf(device, opts.role);
    const isSelf = backend.self?.identity.deviceId === device.deviceId;
    await backend.require(
      { action: { kind: "revoke", role }, target: targetOf(device) },
      list,
      `revoking the ${role} token of device ${shortId(device.deviceId)}`,
      `gatehouse devices revoke --device ${device.deviceId} --role ${role}`,
    );
    const result = await backend.revoke(device.deviceId, role);
    if (isSelf) forgetOwnTokens(backend, [role]);
    out.result(result, () =>
      [
        `revoked the ${role} token of device ${deviceName(device)} (${shortId(device.deviceId)}); ${backend.mode === "online" ? `its ${role} sessions were closed` : "it is no longer valid"}`,
        `  to use the ${role} role again it must be approved again (its next connect opens a request)`,
      ].join("\n"),
    );
    return EXIT.ok;
  });
}

/** After removing or revoking itself, the CLI drops tokens that can no longer work. */
function forgetOwnTokens(backend: DevicesBackend, roles: readonly GatewayRole[]): void {
  const self = backend.self;
  if (!self) return;
  for (const role of roles) self.tokenStore.delete(self.identity.deviceId, role);
}
