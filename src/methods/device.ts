/** `device.pair.*` and `device.token.*` (reference §6.1): thin handlers over the pairing service. */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import type { MethodContext, MethodHandler } from "../gateway/methods.js";
import type { Caller } from "../policy/device-management.js";
import { GatewayError } from "../protocol/errors.js";
import { compileValidator } from "../protocol/validate.js";

const closed = { additionalProperties: false } as const;
const RequestIdParams = Type.Object({ requestId: Type.String({ minLength: 1 }) }, closed);
const DeviceIdParams = Type.Object({ deviceId: Type.String({ minLength: 1 }) }, closed);
const RenameParams = Type.Object(
  { deviceId: Type.String({ minLength: 1 }), label: Type.String({ minLength: 1, maxLength: 64 }) },
  closed,
);
const RoleParams = Type.Object(
  {
    deviceId: Type.String({ minLength: 1 }),
    role: Type.Union([Type.Literal("operator"), Type.Literal("node")]),
  },
  closed,
);
const RotateParams = Type.Object(
  {
    deviceId: Type.String({ minLength: 1 }),
    role: Type.Union([Type.Literal("operator"), Type.Literal("node")]),
    scopes: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  closed,
);
const EmptyParams = Type.Object({}, closed);

/** Validates params against a schema; INVALID_PARAMS with the path otherwise. */
function parse<S extends TSchema>(schema: S) {
  const validate = compileValidator(schema);
  return (params: unknown): Static<S> => {
    const r = validate(params ?? {});
    if (!r.ok)
      throw new GatewayError("INVALID_PARAMS", { message: `invalid params: ${r.errors.join("; ")}` });
    return r.value;
  };
}

const parseRequestId = parse(RequestIdParams);
const parseDeviceId = parse(DeviceIdParams);
const parseRename = parse(RenameParams);
const parseRole = parse(RoleParams);
const parseRotate = parse(RotateParams);
const parseEmpty = parse(EmptyParams);

function caller(ctx: MethodContext): Caller {
  return { scopes: ctx.scopes, deviceId: ctx.deviceId, viaDeviceToken: ctx.authMethod === "device-token" };
}

function actor(ctx: MethodContext): string {
  return ctx.deviceId ? `device:${ctx.deviceId}` : `${ctx.client.id}/${ctx.client.mode}`;
}

export const deviceMethods: Readonly<Record<string, MethodHandler>> = {
  "device.pair.list": (ctx, params) => {
    parseEmpty(params);
    return ctx.pairing.list(caller(ctx));
  },
  "device.pair.approve": (ctx, params) =>
    ctx.pairing.approve(caller(ctx), parseRequestId(params).requestId, actor(ctx)),
  "device.pair.reject": (ctx, params) =>
    ctx.pairing.reject(caller(ctx), parseRequestId(params).requestId, actor(ctx)),
  "device.pair.remove": (ctx, params) =>
    ctx.pairing.remove(caller(ctx), parseDeviceId(params).deviceId, actor(ctx)),
  "device.pair.rename": (ctx, params) => {
    const p = parseRename(params);
    return ctx.pairing.rename(caller(ctx), p.deviceId, p.label.trim(), actor(ctx));
  },
  "device.token.rotate": (ctx, params) => {
    const p = parseRotate(params);
    return ctx.pairing.rotate(caller(ctx), p.deviceId, p.role, p.scopes, actor(ctx), ctx.connId);
  },
  "device.token.revoke": (ctx, params) => {
    const p = parseRole(params);
    return ctx.pairing.revoke(caller(ctx), p.deviceId, p.role, actor(ctx));
  },
};
