/** The events this gateway sends after hello: one closed vocabulary for the server, its hosts and its runtime. */
import { DEVICE_EVENTS } from "./devices.js";
import { NODE_PAIR_EVENTS } from "./node-pairing.js";
import { SESSION_EVENTS } from "./sessions.js";

/** Every event name the gateway may send on a connection. */
export const WIRE_EVENTS = [
  "tick",
  "shutdown",
  ...DEVICE_EVENTS,
  ...NODE_PAIR_EVENTS,
  ...SESSION_EVENTS,
  "presence",
  "node.invoke.request",
] as const;
/**
 * One of {@link WIRE_EVENTS}.
 *
 * @example
 * ```ts
 * const name: WireEventName = "device.pair.requested";
 * ```
 */
export type WireEventName = (typeof WIRE_EVENTS)[number];

/** The event a node receives for each invocation. */
export const NODE_INVOKE_REQUEST_EVENT = "node.invoke.request" satisfies WireEventName;
