import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  MIN_CLIENT_PROTOCOL_VERSION,
  MIN_NODE_PROTOCOL_VERSION,
  MIN_PROBE_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  negotiateProtocol,
  type ProtocolOffer,
} from "../../src/protocol/version.js";

function offer(range: [number, number], role = "operator", mode = "cli"): ProtocolOffer {
  return { minProtocol: range[0], maxProtocol: range[1], role, mode };
}

function assertOk(o: ProtocolOffer, legacyNode: boolean): void {
  assert.deepEqual(negotiateProtocol(o), { ok: true, protocol: 4, legacyNode });
}

function assertMismatch(o: ProtocolOffer): void {
  assert.deepEqual(negotiateProtocol(o), {
    ok: false,
    details: {
      clientMinProtocol: o.minProtocol,
      clientMaxProtocol: o.maxProtocol,
      expectedProtocol: 4,
      minimumProbeProtocol: 3,
    },
  });
}

test("constants match protocol 4", () => {
  assert.equal(PROTOCOL_VERSION, 4);
  assert.equal(MIN_CLIENT_PROTOCOL_VERSION, 4);
  assert.equal(MIN_NODE_PROTOCOL_VERSION, 3);
  assert.equal(MIN_PROBE_PROTOCOL_VERSION, 3);
});

describe("accepted offers (the server always speaks 4)", () => {
  const rows: [string, ProtocolOffer, boolean][] = [
    ["[4,4] operator", offer([4, 4]), false],
    ["[3,4] operator", offer([3, 4]), false],
    ["[1,9] operator", offer([1, 9]), false],
    ["[4,4] node/node", offer([4, 4], "node", "node"), false],
    ["[3,4] node/node is current, not legacy", offer([3, 4], "node", "node"), false],
    ["[3,3] node/node is legacy node protocol", offer([3, 3], "node", "node"), true],
    ["[2,3] node/node is legacy node protocol", offer([2, 3], "node", "node"), true],
    ["[3,3] probe", offer([3, 3], "operator", "probe"), false],
    ["[3,5] probe", offer([3, 5], "operator", "probe"), false],
  ];
  for (const [name, o, legacy] of rows) {
    test(name, () => assertOk(o, legacy));
  }
});

describe("protocol mismatch carries the reference details", () => {
  const rows: [string, ProtocolOffer][] = [
    ["[1,3] operator", offer([1, 3])],
    ["[3,3] operator", offer([3, 3])],
    ["[3,3] node role with mode cli", offer([3, 3], "node", "cli")],
    ["[3,3] node role with mode backend", offer([3, 3], "node", "backend")],
    ["[3,3] operator role with mode node", offer([3, 3], "operator", "node")],
    ["[2,2] node/node", offer([2, 2], "node", "node")],
    ["[2,2] probe", offer([2, 2], "operator", "probe")],
    ["[5,6] operator", offer([5, 6])],
    ["[5,6] probe", offer([5, 6], "operator", "probe")],
    ["[5,6] node/node", offer([5, 6], "node", "node")],
  ];
  for (const [name, o] of rows) {
    test(name, () => assertMismatch(o));
  }

  test("[1,3] operator details, spelled out", () => {
    const result = negotiateProtocol(offer([1, 3]));
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.deepEqual(result.details, {
      clientMinProtocol: 1,
      clientMaxProtocol: 3,
      expectedProtocol: 4,
      minimumProbeProtocol: 3,
    });
  });
});
