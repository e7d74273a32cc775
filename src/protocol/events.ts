/** The events this gateway sends after hello: one closed vocabulary for the server, its hosts and its runtime. */
// The name lists live here, not beside their payload schemas: the gateway needs the names at start
// and the schemas (TypeBox) only to describe payloads, so loading one must not load the other. The
// payload modules key their payload types by these lists, so a name without a payload fails to compile.

/** Events the device-management surface sends to `operator.pairing` holders. */
export const DEVICE_EVENTS = [
  "device.pair.requested",
  "device.pair.resolved",
  "device.pair.changed",
] as const;
export type DeviceEventName = (typeof DEVICE_EVENTS)[number];

/** The node-pairing events, as a list (the gateway's event vocabulary includes them). */
export const NODE_PAIR_EVENTS = ["node.pair.requested", "node.pair.resolved"] as const;

/** The session lifecycle events, as a list (the gateway's event vocabulary includes them). */
export const SESSION_EVENTS = ["session.started", "session.ended"] as const;

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
/** The event that tells operators, and the node itself, that a node's surface request was resolved. */
export const NODE_PAIR_RESOLVED_EVENT = "node.pair.resolved" satisfies WireEventName;
