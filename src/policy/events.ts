/**
 * Who receives which event: one table over the closed event vocabulary. Pairing events carry
 * requests and devices, so only holders of `operator.pairing` see them; session events go to whoever
 * may list sessions (`operator.read`, as `sessions.list`); presence lists every open
 * connection and goes only to the Control UI's readers; the heartbeat and the shutdown notice go to
 * every connection. A node's surface resolution also goes to that node's own sessions, as OpenClaw
 * tells an approved node host (so it learns at once what it may now be asked to run, without a
 * reconnect). The gateway asks here for each connection and sends; it holds no such rule.
 * Each answer carries the rules that decided it, like every other decision of the policy.
 */
import { isBrowserUiClient } from "../protocol/client-info.js";
import type { WireEventName } from "../protocol/events.js";
import { isRecord } from "../protocol/json.js";
import { OPERATOR_SCOPES } from "../protocol/scopes.js";
import { methodRequirement } from "./method-scopes.js";
import type { RuleId } from "./rules.js";
import { scopeSatisfied } from "./scopes.js";

/** The event part of the rule vocabulary (sentences in src/policy/rules.ts). */
export type EventRuleId = Extract<RuleId, `event-${string}`>;

/** Who an event goes to. */
export type EventAudience =
  | { kind: "every-connection" }
  | {
      kind: "scope";
      scope: string;
      browserUiOnly: boolean;
      /** The node the event is about hears it too, in its own sessions (a surface resolution). */
      subjectNode?: boolean;
    }
  /** Sent to one connection by whoever addresses it (a node's invocation), never broadcast. */
  | { kind: "addressed" };

const PAIRING: EventAudience = { kind: "scope", scope: OPERATOR_SCOPES.pairing, browserUiOnly: false };
const PAIRING_AND_ITS_NODE: EventAudience = { ...PAIRING, subjectNode: true };
/** Who may see a session: whoever may list sessions, read from the method table (fail closed to admin). */
const SESSION_READERS: EventAudience = {
  kind: "scope",
  scope: methodRequirement("sessions.list").scope ?? OPERATOR_SCOPES.admin,
  browserUiOnly: false,
};

const AUDIENCE: Readonly<Record<WireEventName, EventAudience>> = {
  tick: { kind: "every-connection" },
  shutdown: { kind: "every-connection" },
  "device.pair.requested": PAIRING,
  "device.pair.resolved": PAIRING,
  "device.pair.changed": PAIRING,
  "node.pair.requested": PAIRING,
  "node.pair.resolved": PAIRING_AND_ITS_NODE,
  "session.started": SESSION_READERS,
  "session.ended": SESSION_READERS,
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
  /** Its role and device, for events that go to the node they are about. */
  role?: string;
  deviceId?: string | null;
}

/** What a broadcast is about, when that party may hear it ({@link eventSubject}); null: nobody in particular. */
export interface EventSubject {
  nodeId: string;
}

/** Whether a broadcast goes to one connection, and the rules that decided it. */
export interface EventDelivery {
  deliver: boolean;
  trace: readonly EventRuleId[];
}

// Built once: delivery is asked for every connection on every broadcast (the tick included).
const outcome = (deliver: boolean, ...trace: EventRuleId[]): EventDelivery =>
  Object.freeze({ deliver, trace: Object.freeze(trace) });
const TO_EVERY_CONNECTION = outcome(true, "event-every-connection");
const ADDRESSED_ONLY = outcome(false, "event-addressed-only");
const BEFORE_HELLO = outcome(false, "event-before-hello");
const SCOPE_MISSING = outcome(false, "event-scope-missing");
const SCOPE_HELD = outcome(true, "event-scope-held");
const NOT_BROWSER_UI = outcome(false, "event-scope-held", "event-not-browser-ui");
const BROWSER_UI = outcome(true, "event-scope-held", "event-browser-ui");
const SUBJECT_NODE = outcome(true, "event-subject-node");

/**
 * Does a broadcast of `event` (about `subject`, if anyone) go to this connection (`receiver` null:
 * not admitted yet), and why.
 */
export function decideEventDelivery(
  receiver: EventReceiver | null,
  event: WireEventName,
  subject: EventSubject | null = null,
): EventDelivery {
  const audience = AUDIENCE[event];
  switch (audience.kind) {
    case "every-connection":
      return TO_EVERY_CONNECTION;
    case "addressed":
      return ADDRESSED_ONLY;
    case "scope":
      if (receiver === null) return BEFORE_HELLO;
      if (
        audience.subjectNode &&
        subject !== null &&
        receiver.role === "node" &&
        receiver.deviceId === subject.nodeId
      ) {
        return SUBJECT_NODE;
      }
      if (!scopeSatisfied(receiver.scopes, audience.scope)) return SCOPE_MISSING;
      if (!audience.browserUiOnly) return SCOPE_HELD;
      return isBrowserUiClient(receiver.client.id, receiver.client.mode) ? BROWSER_UI : NOT_BROWSER_UI;
  }
}

/** Does a broadcast of `event` go to this connection? ({@link decideEventDelivery} without its trace.) */
export function receivesBroadcast(
  receiver: EventReceiver | null,
  event: WireEventName,
  subject: EventSubject | null = null,
): boolean {
  return decideEventDelivery(receiver, event, subject).deliver;
}

/** Who a broadcast is about, read from its payload: the node a surface resolution names. */
export function eventSubject(event: WireEventName, payload: unknown): EventSubject | null {
  if (event !== "node.pair.resolved" || !isRecord(payload)) return null;
  return typeof payload.nodeId === "string" && payload.nodeId !== "" ? { nodeId: payload.nodeId } : null;
}
