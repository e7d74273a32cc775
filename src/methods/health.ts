/** `health`: is the gateway up and answering. */
import type { MethodHandler } from "../gateway/methods.js";

/** Liveness plus the few figures a probe wants. */
export const health: MethodHandler = (ctx) => {
  const now = ctx.gateway.now();
  return {
    ok: true,
    ts: now,
    version: ctx.gateway.version,
    uptimeMs: now - ctx.gateway.startedAtMs,
    connections: ctx.gateway.connections().length,
  };
};
