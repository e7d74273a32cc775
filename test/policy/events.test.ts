/** Who receives which event (src/policy/events.ts): one audience per event of the closed vocabulary. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decideEventDelivery,
  eventSubject,
  eventAudience,
  receivesBroadcast,
  type EventReceiver,
} from "../../src/policy/events.js";
import { isRuleId } from "../../src/policy/rules.js";
import { WIRE_EVENTS } from "../../src/protocol/events.js";

const cli = { id: "cli", mode: "cli" };
const ui = { id: "openclaw-control-ui", mode: "webchat" };

test("pairing events reach holders of operator.pairing (or admin) only", () => {
  for (const event of WIRE_EVENTS.filter((e) => e.includes(".pair."))) {
    assert.equal(receivesBroadcast({ scopes: ["operator.pairing"], client: cli }, event), true, event);
    assert.equal(receivesBroadcast({ scopes: ["operator.admin"], client: cli }, event), true, event);
    assert.equal(
      receivesBroadcast({ scopes: ["operator.read", "operator.write"], client: ui }, event),
      false,
      event,
    );
    assert.equal(receivesBroadcast(null, event), false, event);
  }
});

test("presence goes to the Control UI's readers, not to other clients that read", () => {
  assert.equal(receivesBroadcast({ scopes: ["operator.read"], client: ui }, "presence"), true);
  assert.equal(receivesBroadcast({ scopes: ["operator.write"], client: ui }, "presence"), true);
  assert.equal(receivesBroadcast({ scopes: [], client: ui }, "presence"), false);
  assert.equal(receivesBroadcast({ scopes: ["operator.admin"], client: cli }, "presence"), false);
});

test("the heartbeat and the shutdown notice reach every connection; an invocation is never broadcast", () => {
  for (const event of ["tick", "shutdown"] as const) {
    assert.equal(receivesBroadcast(null, event), true);
    assert.equal(receivesBroadcast({ scopes: [], client: cli }, event), true);
  }
  assert.equal(receivesBroadcast({ scopes: ["operator.admin"], client: cli }, "node.invoke.request"), false);
});

test("every event of the vocabulary has an audience", () => {
  for (const event of WIRE_EVENTS) assert.ok(eventAudience(event), event);
});

test("each delivery names the rules that decided it", () => {
  const reader = { scopes: ["operator.read"], client: ui };
  assert.deepEqual(decideEventDelivery(null, "tick"), { deliver: true, trace: ["event-every-connection"] });
  assert.deepEqual(decideEventDelivery(reader, "node.invoke.request"), {
    deliver: false,
    trace: ["event-addressed-only"],
  });
  assert.deepEqual(decideEventDelivery(null, "device.pair.requested"), {
    deliver: false,
    trace: ["event-before-hello"],
  });
  assert.deepEqual(decideEventDelivery(reader, "device.pair.requested"), {
    deliver: false,
    trace: ["event-scope-missing"],
  });
  assert.deepEqual(decideEventDelivery({ scopes: ["operator.admin"], client: cli }, "node.pair.resolved"), {
    deliver: true,
    trace: ["event-scope-held"],
  });
  assert.deepEqual(decideEventDelivery(reader, "presence"), {
    deliver: true,
    trace: ["event-scope-held", "event-browser-ui"],
  });
  assert.deepEqual(decideEventDelivery({ scopes: ["operator.read"], client: cli }, "presence"), {
    deliver: false,
    trace: ["event-scope-held", "event-not-browser-ui"],
  });
});

test("over every event and receiver: a non-empty trace of known rules, the last one saying why", () => {
  const scopeSets = [[], ["operator.read"], ["operator.write"], ["operator.pairing"], ["operator.admin"]];
  const receivers: Array<EventReceiver | null> = [
    null,
    ...scopeSets.flatMap((scopes) => [cli, ui].map((client) => ({ scopes, client }))),
  ];
  const refusing = new Set([
    "event-addressed-only",
    "event-before-hello",
    "event-scope-missing",
    "event-not-browser-ui",
  ]);
  for (const event of WIRE_EVENTS) {
    for (const receiver of receivers) {
      const d = decideEventDelivery(receiver, event);
      const label = `${event} to ${JSON.stringify(receiver)}`;
      assert.ok(d.trace.length > 0, label);
      for (const rule of d.trace) assert.ok(isRuleId(rule), `${label}: ${rule}`);
      assert.equal(refusing.has(d.trace.at(-1)!), !d.deliver, label);
      assert.equal(receivesBroadcast(receiver, event), d.deliver, label);
    }
  }
});

test("session events reach whoever may list sessions; a caller without the scope hears nothing", () => {
  for (const event of ["session.started", "session.ended"] as const) {
    for (const scopes of [["operator.read"], ["operator.write"], ["operator.admin"]]) {
      assert.deepEqual(decideEventDelivery({ scopes, client: cli }, event), {
        deliver: true,
        trace: ["event-scope-held"],
      });
    }
    // Session-less callers without operator.read: a pairing-only device, a node, one that asked for nothing.
    for (const scopes of [[], ["operator.pairing"], ["operator.approvals"], ["node.x"]]) {
      for (const client of [cli, ui]) {
        assert.deepEqual(
          decideEventDelivery({ scopes, client }, event),
          { deliver: false, trace: ["event-scope-missing"] },
          `${event} to ${scopes.join(",") || "no scopes"}`,
        );
      }
    }
    assert.equal(receivesBroadcast(null, event), false);
    assert.equal(eventAudience(event).kind, "scope");
  }
});

test("a node's surface resolution also reaches that node's own sessions, and no other node", () => {
  const nodeHost = { id: "node-host", mode: "node" };
  const itself = { scopes: [], client: nodeHost, role: "node", deviceId: "node-a" };
  const subject = { nodeId: "node-a" };
  assert.deepEqual(decideEventDelivery(itself, "node.pair.resolved", subject), {
    deliver: true,
    trace: ["event-subject-node"],
  });
  // Another node, the same device as an operator without pairing, or no subject: the scope decides.
  for (const [receiver, about] of [
    [{ ...itself, deviceId: "node-b" }, subject],
    [{ ...itself, role: "operator" }, subject],
    [itself, null],
  ] as const) {
    assert.deepEqual(decideEventDelivery(receiver, "node.pair.resolved", about), {
      deliver: false,
      trace: ["event-scope-missing"],
    });
  }
  // Only a resolution goes to its node: the request (with what it asks) stays with approvers.
  assert.equal(receivesBroadcast(itself, "node.pair.requested", subject), false);
  assert.equal(receivesBroadcast(null, "node.pair.resolved", subject), false);
  assert.deepEqual(
    eventSubject("node.pair.resolved", { requestId: "r", nodeId: "node-a", decision: "approved", ts: 1 }),
    subject,
  );
  assert.equal(eventSubject("node.pair.requested", { nodeId: "node-a" }), null);
  assert.equal(eventSubject("node.pair.resolved", { nodeId: "" }), null);
});
