/** Who receives which event (src/policy/events.ts): one audience per event of the closed vocabulary. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { eventAudience, receivesBroadcast } from "../../src/policy/events.js";
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
