/**
 * Who receives which event: one table over the closed event vocabulary. Pairing events carry
 * requests and devices, so only holders of `operator.pairing` see them; presence lists every open
 * connection and goes only to the Control UI's readers; the heartbeat and the shutdown notice go to
 * every connection. The gateway asks here for each connection and sends; it holds no such rule.
 */
import { isBrowserUiClient } from "../protocol/client-info.js";
import type { WireEventName } from "../protocol/events.js";
import { OPERATOR_SCOPES } from "../protocol/scopes.js";
import { scopeSatisfied } from "./scopes.js";

/** Who an event goes to. */
export type EventAudience =
  | { kind: "every-connection" }
  | { kind: "scope"; scope: string; browserUiOnly: boolean }
  /** Sent to one connection by whoever addresses it (a node's invocation), never broadcast. */
  | { kind: "addressed" };

const PAIRING: EventAudience = { kind: "scope", scope: OPERATOR_SCOPES.pairing, browserUiOnly: false };

const AUDIENCE: Readonly<Record<WireEventName, EventAudience>> = {
  tick: { kind: "every-connection" },
  shutdown: { kind: "every-connection" },
  "device.pair.requested": PAIRING,
  "device.pair.resolved": PAIRING,
  "device.pair.changed": PAIRING,
  "node.pair.requested": PAIRING,
  "node.pair.resolved": PAIRING,
  presence: { kind: "scope", scope: OPERATOR_SCOPES.read, browserUiOnly: true },
  "node.invoke.request": { kind: "addressed" },
};

/** The audience of an event. */
export function eventAudience(event: WireEventName): EventAudience {
  return AUDIENCE[event];
}

/** An admitted connection as event delivery needs it; null before hello. */
export interface EventReceiver {
  scopes: readonly string[];
  client: { id: string; mode: string };
}

/** Does a broadcast of `event` go to this connection? */
export function receivesBroadcast(receiver: EventReceiver | null, event: WireEventName): boolean {
  const audience = AUDIENCE[event];
  switch (audience.kind) {
    case "every-connection":
      return true;
    case "addressed":
      return false;
    case "scope":
      if (receiver === null || !scopeSatisfied(receiver.scopes, audience.scope)) return false;
      return !audience.browserUiOnly || isBrowserUiClient(receiver.client.id, receiver.client.mode);
  }
}
