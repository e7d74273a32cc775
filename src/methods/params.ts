/**
 * Param validation shared by the method handlers: the precompiled check of a schema in
 * src/protocol/check-schemas.ts, INVALID_PARAMS on failure.
 */
import type { MethodContext } from "../gateway/methods.js";
import type { CheckName, Checked } from "../protocol/check-schemas.js";
import { checker } from "../protocol/checks.js";
import { GatewayError } from "../protocol/errors.js";

export { SCOPE_PATTERN } from "../protocol/scopes.js";

/** A parser for the schema named `name`: the typed value, or INVALID_PARAMS naming the offending path. */
export function paramsParser<K extends CheckName>(name: K): (params: unknown) => Checked<K> {
  const validate = checker(name);
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
