/**
 * What the CLI asks for when it connects to act (policy/client-asks.ts): never beyond this
 * device's approval where that would open an upgrade request for itself (S46), except where the
 * gateway approves the upgrade silently, as it approved the device (loopback, shared secret).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decideAsk, invokeAsk, mintAsk, statusAsk, type AskFacts } from "../../src/policy/client-asks.js";
import { isRuleId } from "../../src/policy/rules.js";

const base: AskFacts = {
  needed: ["operator.pairing", "operator.admin"],
  approved: ["operator.pairing", "operator.read"],
  approvedVia: "silent",
  loopback: true,
  sharedSecret: true,
};

describe("decideAsk", () => {
  it("asks beyond a silently approved device's approval on loopback with the shared secret (nodes approve on OpenClaw)", () => {
    const d = decideAsk(base);
    assert.deepEqual(d.scopes, ["operator.admin", "operator.pairing"]);
    assert.deepEqual(d.unasked, []);
    assert.deepEqual(d.trace, ["ask-silent-upgrade"]);
  });

  for (const [what, change] of [
    ["approved by a person", { approvedVia: "approved" }],
    ["approval unknown", { approvedVia: null }],
    ["remote", { loopback: false }],
    ["no shared secret", { sharedSecret: false }],
  ] as const) {
    it(`S46: does not ask beyond the approval when ${what}, and names what is missing`, () => {
      const d = decideAsk({ ...base, ...change });
      assert.deepEqual(d.scopes, ["operator.pairing"]);
      assert.deepEqual(d.unasked, ["operator.admin"]);
      assert.deepEqual(d.trace, ["ask-capped-at-approval"]);
    });
  }

  it("asks for exactly what is needed within the approval (admin covers the rest), and reopens only when the session lacks it", () => {
    const d = decideAsk({
      ...base,
      approved: ["operator.admin"],
      approvedVia: "approved",
      held: ["operator.pairing"],
    });
    assert.deepEqual(d.scopes, ["operator.admin", "operator.pairing"]);
    assert.deepEqual(d.trace, ["ask-within-approval"]);
    assert.equal(d.reopen, true);
    const same = decideAsk({ ...base, needed: ["operator.pairing"], held: ["operator.admin"] });
    assert.equal(same.reopen, false);
  });

  it("a device with no approval yet asks for what is needed", () => {
    const d = decideAsk({ ...base, approved: null, approvedVia: null, loopback: false });
    assert.deepEqual(d.scopes, ["operator.admin", "operator.pairing"]);
    assert.deepEqual(d.trace, ["ask-first-contact"]);
  });
});

describe("invokeAsk, mintAsk, statusAsk", () => {
  it("invoking an exec-capable command asks for admin, others for write", () => {
    assert.deepEqual(invokeAsk("system.run"), {
      scopes: ["operator.admin"],
      trace: ["ask-invoke-exec-admin"],
    });
    assert.deepEqual(invokeAsk("system.which"), { scopes: ["operator.write"], trace: ["ask-invoke-write"] });
  });

  it("minting asks for admin alone when the profile needs it, else pairing and the profile's scopes", () => {
    assert.deepEqual(mintAsk(["operator.admin"]).scopes, ["operator.admin"]);
    assert.deepEqual(mintAsk(["operator.read"]).scopes, ["operator.pairing", "operator.read"]);
  });

  it("status asks for pairing only for the owner on the host or a device approved for it", () => {
    assert.deepEqual(statusAsk({ withPairing: true, ownerOnHost: true, approved: null }).scopes, [
      "operator.read",
      "operator.pairing",
    ]);
    const device = statusAsk({ withPairing: true, ownerOnHost: false, approved: ["operator.read"] });
    assert.deepEqual([device.scopes, device.withPairing], [["operator.read"], false]);
    assert.equal(
      statusAsk({ withPairing: true, ownerOnHost: false, approved: ["operator.admin"] }).withPairing,
      true,
    );
  });

  it("every rule named is in the closed vocabulary", () => {
    const traces = [
      decideAsk(base),
      invokeAsk("fs.read"),
      mintAsk([]),
      statusAsk({ withPairing: false, ownerOnHost: false, approved: null }),
    ];
    for (const t of traces) for (const r of t.trace) assert.ok(isRuleId(r), r);
  });
});
