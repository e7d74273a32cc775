/** `device.pair.*` and `device.token.*` (reference §6.1): thin handlers over device management. */
import type { MethodContext, MethodHandler } from "../gateway/methods.js";
import type { ManagementCaller } from "../devices/manager.js";
import { proofOf } from "../policy/device-management.js";
import { paramsParser as parse, runtimeCaller, runtimeJobOf } from "./params.js";

/** Browser devices idle this long are stale unless the caller says otherwise. */
export const DEFAULT_RETIRE_IDLE_DAYS = 30;

const parseRequestId = parse("DeviceRequestIdParams");
const parseDeviceId = parse("DeviceIdParams");
const parseRename = parse("DeviceRenameParams");
const parseRole = parse("DeviceRoleParams");
const parseRotate = parse("DeviceRotateParams");
const parseEmpty = parse("EmptyParams");
const parseRetire = parse("DeviceRetireParams");

/** The caller of a device-management method: its authority as the policy sees it, and its audit name. */
export function callerOf(ctx: MethodContext): ManagementCaller {
  return {
    authority: {
      scopes: ctx.scopes,
      deviceId: ctx.deviceId,
      proof: proofOf(ctx.authMethod),
      onHost: ctx.onHost,
    },
    actor: runtimeCaller(ctx).actor,
    // Behind a trusted proxy the audit also names the person, not only the browser they used.
    ...(ctx.proxyUser ? { proxyUser: ctx.proxyUser } : {}),
    connId: ctx.connId,
    runtimeJobId: runtimeJobOf(ctx),
  };
}

export const deviceMethods: Readonly<Record<string, MethodHandler>> = {
  "device.pair.list": (ctx, params) => {
    parseEmpty(params);
    return ctx.devices.list(callerOf(ctx));
  },
  "device.pair.approve": (ctx, params) =>
    ctx.devices.approve(callerOf(ctx), parseRequestId(params).requestId),
  "device.pair.reject": (ctx, params) => ctx.devices.reject(callerOf(ctx), parseRequestId(params).requestId),
  "device.pair.remove": (ctx, params) => ctx.devices.remove(callerOf(ctx), parseDeviceId(params).deviceId),
  "device.pair.retireStale": (ctx, params) => {
    const p = parseRetire(params);
    return ctx.devices.retireStaleBrowsers(
      callerOf(ctx),
      p.idleDays ?? DEFAULT_RETIRE_IDLE_DAYS,
      p.dryRun ?? false,
    );
  },
  "device.pair.rename": (ctx, params) => {
    const p = parseRename(params);
    return ctx.devices.rename(callerOf(ctx), p.deviceId, p.label.trim());
  },
  "device.token.rotate": (ctx, params) => {
    const p = parseRotate(params);
    return ctx.devices.rotate(callerOf(ctx), p.deviceId, p.role, p.scopes);
  },
  "device.token.revoke": (ctx, params) => {
    const p = parseRole(params);
    return ctx.devices.revoke(callerOf(ctx), p.deviceId, p.role);
  },
};
