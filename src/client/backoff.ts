/**
 * Reconnect delays after an established session drops: exponential from `initialDelayMs` (500)
 * by `factor` (2) up to `maxDelayMs` (30 000), with jitter so clients spread out.
 *
 * @example
 * ```ts
 * import { GatewayClient, type ReconnectOptions } from "gatehouse-gateway/client";
 *
 * const reconnect: ReconnectOptions = { initialDelayMs: 250, factor: 2, maxDelayMs: 5_000 };
 * const client = new GatewayClient({ url: "ws://127.0.0.1:18789", reconnect });
 * console.log(client.state); // idle
 * ```
 */
export interface ReconnectOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  factor?: number;
}

export interface ResolvedReconnectOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
}

/** Fills in the defaults (500 ms, ×2, capped at 30 s). */
export function resolveReconnectOptions(options: ReconnectOptions = {}): ResolvedReconnectOptions {
  const initialDelayMs = Math.max(0, options.initialDelayMs ?? 500);
  return {
    initialDelayMs,
    maxDelayMs: Math.max(initialDelayMs, options.maxDelayMs ?? 30_000),
    factor: Math.max(1, options.factor ?? 2),
  };
}

/**
 * Delay before reconnect attempt `attempt` (1-based): the capped exponential step, of which the
 * upper half is random ("equal jitter"), so the delay never collapses to zero.
 */
export function backoffDelay(
  attempt: number,
  options: ResolvedReconnectOptions,
  random: () => number = Math.random,
): number {
  const step = options.initialDelayMs * options.factor ** Math.max(0, attempt - 1);
  const capped = Math.min(options.maxDelayMs, step);
  return Math.round(capped / 2 + (random() * capped) / 2);
}
