/**
 * What the CLI asks for when it connects to act (policy/client-asks.ts): never beyond this
 * device's approval where that would open an upgrade request for itself (S46), except where the
 * gateway approves the upgrade silently, as it approved the device (loopback, shared secret).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  approvalSourceMatters,
  decideAsk,
  invokeAsk,
  managementNeeds,
  methodsAsk,
  listingNeeds,
  mintAsk,
  redeemAsk,
  seesOtherDevices,
  statedAsk,
  statusAsk,
  type AskedAction,
  type AskFacts,
} from "../../src/policy/client-asks.js";
import {
  decideManagement,
  type CallerAuthority,
  type TargetDevice,
} from "../../src/policy/device-management.js";
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

describe("approvalSourceMatters: when a device learns how it was approved before asking", () => {
  const listing: AskFacts = {
    needed: ["operator.pairing"],
    approved: ["operator.read"],
    approvedVia: null,
    loopback: true,
    sharedSecret: true,
  };
  it("only where a silent approval would be widened silently and the ask would otherwise be capped", () => {
    assert.equal(approvalSourceMatters(listing), true);
    assert.equal(decideAsk(listing).unasked.length, 1, "capped while unknown");
    assert.equal(decideAsk({ ...listing, approvedVia: "silent" }).unasked.length, 0);
    // Known already, within the approval, remote, without the shared secret, or before any approval: no.
    for (const facts of [
      { ...listing, approvedVia: "approved" },
      { ...listing, approvedVia: "silent" },
      { ...listing, approved: ["operator.pairing"] },
      { ...listing, loopback: false },
      { ...listing, sharedSecret: false },
      { ...listing, approved: null },
    ]) {
      assert.equal(approvalSourceMatters(facts), false, JSON.stringify(facts));
    }
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

  it("a command asks for its methods' scopes, and a redeemed code for its profile as a CLI asks for it", () => {
    assert.deepEqual(methodsAsk(["health", "status", "device.pair.list"]).scopes, [
      "operator.pairing",
      "operator.read",
    ]);
    assert.deepEqual(redeemAsk("operator-limited").scopes, [
      "operator.approvals",
      "operator.read",
      "operator.write",
    ]);
    // Every operator scope of the profile but operator.talk.secrets, which no CLI asks for.
    assert.deepEqual(redeemAsk("operator-full").scopes, [
      "operator.admin",
      "operator.approvals",
      "operator.pairing",
      "operator.read",
      "operator.write",
    ]);
  });

  it("every rule named is in the closed vocabulary", () => {
    const traces = [
      decideAsk(base),
      invokeAsk("fs.read"),
      mintAsk([]),
      statusAsk({ withPairing: false, ownerOnHost: false, approved: null }),
      methodsAsk(["health"]),
      redeemAsk("operator-full"),
    ];
    for (const t of traces) for (const r of t.trace) assert.ok(isRuleId(r), r);
  });
});

describe("managementNeeds: what a device-management command asks for, derived from the gateway's rules", () => {
  const SELF = "dev-self";
  const device = (
    id: string,
    roles: TargetDevice["roles"],
    scopes: string[],
    owner = false,
  ): TargetDevice => ({
    deviceId: id,
    owner,
    roles,
    scopes,
    tokens: Object.fromEntries(
      roles.map((r) => [r, { revoked: false, scopes: scopes.filter((x) => x.startsWith(`${r}.`)) }]),
    ),
  });
  const reader = device("dev-reader", ["operator"], ["operator.read"]);
  const writer = device("dev-writer", ["operator"], ["operator.read", "operator.write"]);
  const node = device("dev-node", ["node"], []);
  const both = device("dev-both", ["operator", "node"], ["operator.read"]);
  const self = device(SELF, ["operator"], ["operator.pairing", "operator.read"]);
  const owner = device("dev-owner", ["operator", "node"], ["operator.admin"], true);
  const revoked: TargetDevice = {
    ...writer,
    tokens: { operator: { revoked: true, scopes: ["operator.write"] } },
  };
  const request = (deviceId: string, roles: TargetDevice["roles"], scopes: string[]) => ({
    deviceId,
    roles,
    scopes,
    sameKeyAsRecord: true,
  });

  type Caller = Omit<CallerAuthority, "scopes">;
  const callers: Record<string, Caller> = {
    "device token": { deviceId: SELF, proof: "device-token", onHost: true },
    "shared secret with a device, remote": { deviceId: SELF, proof: "shared-secret", onHost: false },
    "owner key on the host": { deviceId: SELF, proof: "owner-key", onHost: true },
  };
  const cases: Array<[string, TargetDevice | null, AskedAction]> = [
    [
      "approve a read request",
      null,
      { kind: "approve", request: request("dev-new", ["operator"], ["operator.read"]) },
    ],
    ["approve a node request", null, { kind: "approve", request: request("dev-new", ["node"], []) }],
    [
      "approve reviving a revoked writer",
      revoked,
      { kind: "approve", request: request(revoked.deviceId, ["operator"], ["operator.read"]) },
    ],
    ["reject a node request", null, { kind: "reject", request: request("dev-new", ["node"], []) }],
    ["remove a writer", writer, { kind: "remove" }],
    ["remove itself", self, { kind: "remove" }],
    ["rename a node", node, { kind: "rename" }],
    ["rotate a reader's token", reader, { kind: "rotate", role: "operator" }],
    ["rotate its own token narrower", self, { kind: "rotate", role: "operator", scopes: ["operator.read"] }],
    ["revoke a writer", writer, { kind: "revoke", role: "operator" }],
    ["revoke the node role of an operator+node device", both, { kind: "revoke", role: "node" }],
  ];

  for (const [who, caller] of Object.entries(callers)) {
    for (const [what, target, action] of cases) {
      it(`${who}: ${what} — the gateway allows exactly what is asked, and nothing less`, () => {
        const needs = managementNeeds(caller, target, action);
        for (const r of needs.trace) assert.ok(isRuleId(r), r);
        assert.equal(needs.trace.at(-1), "ask-management-needs", JSON.stringify(needs));
        const decided = decideManagement({ ...caller, scopes: needs.scopes }, target, action);
        assert.ok(decided.allow, `${JSON.stringify(needs.scopes)} is refused: ${JSON.stringify(decided)}`);
        const pairing = needs.scopes.includes("operator.pairing") || needs.scopes.includes("operator.admin");
        assert.ok(pairing, "the method's own scope is asked for (or admin, which covers it)");
        // Every other scope is there because a management rule needs it.
        for (const dropped of needs.scopes.filter((x) => x !== "operator.pairing")) {
          const fewer = needs.scopes.filter((x) => x !== dropped);
          assert.equal(
            decideManagement({ ...caller, scopes: fewer }, target, action).allow,
            false,
            `${dropped} was asked for but not needed`,
          );
        }
      });
    }
  }

  it("a device-token session asks for operator.admin to act on another device, naming the rule that needs it", () => {
    const needs = managementNeeds(callers["device token"]!, reader, { kind: "remove" });
    assert.deepEqual(needs.scopes, ["operator.admin"]);
    assert.deepEqual(needs.trace, ["manage-token-session-own-device-only", "ask-management-needs"]);
  });

  it("taking rights away asks for the target's baseline; the owner on the host asks for the pairing scope only", () => {
    const remote = managementNeeds(callers["shared secret with a device, remote"]!, writer, {
      kind: "remove",
    });
    assert.deepEqual(remote.scopes, ["operator.pairing", "operator.write"]);
    assert.deepEqual(remote.trace, ["manage-target-wider-than-caller", "ask-management-needs"]);
    const host = managementNeeds(callers["owner key on the host"]!, writer, { kind: "remove" });
    assert.deepEqual(host.scopes, ["operator.pairing"]);
  });

  it("an action no scope makes allowed asks for the method's scope and leaves the refusal to the gateway", () => {
    const needs = managementNeeds(callers["device token"]!, owner, { kind: "remove" });
    assert.deepEqual(needs.scopes, ["operator.pairing"]);
    assert.deepEqual(needs.trace, [
      "manage-token-session-own-device-only",
      "manage-owner-device-not-removable",
      "ask-management-refused-anyway",
    ]);
  });

  it("a device-token session sees other devices only with operator.admin; a shared-secret one with pairing", () => {
    const token = callers["device token"]!;
    assert.equal(seesOtherDevices({ ...token, scopes: ["operator.pairing"] }), false);
    assert.equal(seesOtherDevices({ ...token, scopes: ["operator.admin"] }), true);
    const secret = callers["shared secret with a device, remote"]!;
    assert.equal(seesOtherDevices({ ...secret, scopes: ["operator.pairing"] }), true);
  });

  it("listing every device takes operator.admin of a device-token session, the pairing scope of others", () => {
    assert.deepEqual(listingNeeds(callers["device token"]!), {
      scopes: ["operator.admin"],
      trace: ["ask-method-scopes", "manage-token-session-own-device-only"],
    });
    assert.deepEqual(listingNeeds(callers["shared secret with a device, remote"]!).scopes, [
      "operator.pairing",
    ]);
  });

  it("scopes the gateway stated are asked as stated", () => {
    assert.deepEqual(statedAsk(["operator.write", "operator.pairing"]), {
      scopes: ["operator.pairing", "operator.write"],
      trace: ["ask-stated-by-gateway"],
    });
  });
});
