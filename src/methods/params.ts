/** Param validation shared by the runtime's method handlers: TypeBox schemas, INVALID_PARAMS on failure. */
import type { Static, TSchema } from "@sinclair/typebox";
import type { MethodContext } from "../gateway/methods.js";
import { GatewayError } from "../protocol/errors.js";
import { compileValidator } from "../protocol/validate.js";

/** A parser for `schema`: the typed value, or INVALID_PARAMS naming the offending path. */
export function paramsParser<S extends TSchema>(schema: S): (params: unknown) => Static<S> {
  const validate = compileValidator(schema);
  return (params) => {
    const r = validate(params ?? {});
    if (!r.ok)
      throw new GatewayError("INVALID_PARAMS", { message: `invalid params: ${r.errors.join("; ")}` });
    return r.value;
  };
}

/** Who is asking, as the runtime needs it: scopes, a printable actor, and the job it runs as (if any). */
export interface RuntimeCaller {
  /** The caller's session scopes: the ceiling for anything it starts. */
  scopes: readonly string[];
  /** `device:<id>`, `session:<id>`, `cron:<id>`, or `<client id>/<mode>` for device-less callers. */
  actor: string;
  /** The gateway job (session id) whose runtime token admitted the caller; null otherwise or unknown. */
  runtimeJobId: string | null;
  /**
   * The caller's own device (null for device-less callers): what it creates rests on this device's
   * authority, or, for a runtime-token caller, on whatever its job rests on.
   */
  deviceId: string | null;
}

/** The job a runtime-token caller runs as (its parent, for anything it starts). */
export function runtimeJobOf(ctx: MethodContext): string | null {
  return ctx.authMethod === "runtime-token" ? ctx.runtimeJobId : null;
}

/** The caller of a runtime method. */
export function runtimeCaller(ctx: MethodContext): RuntimeCaller {
  const job = runtimeJobOf(ctx);
  const actor = ctx.deviceId
    ? `device:${ctx.deviceId}`
    : job
      ? `session:${job}`
      : ctx.authMethod === "runtime-token"
        ? "runtime-token"
        : `${ctx.client.id}/${ctx.client.mode}`;
  return { scopes: [...ctx.scopes], actor, runtimeJobId: job, deviceId: ctx.deviceId };
}

/** Scope names as the runtime accepts them (`operator.read`, `operator.talk.secrets`, ...). */
export const SCOPE_PATTERN = "^[a-z][a-z0-9_-]*(\\.[a-z0-9_-]+)*$";
