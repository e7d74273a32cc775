/**
 * Who may approve, reject, remove, rename, rotate, revoke and see which device (C09, C10, S46):
 * nobody grants beyond their own scopes, the node role needs admin, a device never approves its own
 * request, non-admin device-token sessions only manage their own device, the owner is never removed.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  canApprove,
  canReject,
  canRemove,
  canRename,
  canRevoke,
  canRotate,
  canSee,
  type Caller,
  type ManagementCheck,
} from "../../src/policy/device-management.js";
import { ALL_OPERATOR_SCOPES } from "../../src/protocol/scopes.js";

const ADMIN = "operator.admin";
const READ = "operator.read";
const WRITE = "operator.write";
const APPROVALS = "operator.approvals";
const PAIRING = "operator.pairing";
const NODE_X = "node.x";

function caller(
  scopes: readonly string[],
  deviceId: string | null = "dev-caller",
  viaDeviceToken = false,
): Caller {
  return { scopes, deviceId, viaDeviceToken };
}

const ADMIN_CALLER = caller([ADMIN], "dev-admin");
const WRITE_PAIRING = caller([WRITE, PAIRING], "dev-write-pairing");
const PAIRING_ONLY = caller([PAIRING], "dev-pairing-only");
/** A paired device authenticated by its device token, without admin. */
const TOKEN_SESSION = caller([READ, WRITE, PAIRING], "dev-self", true);
const TOKEN_SESSION_ADMIN = caller([ADMIN, PAIRING], "dev-self", true);

const ADMIN_DEVICE = {
  deviceId: "dev-a",
  roles: ["operator"],
  scopes: [ADMIN, PAIRING, READ, WRITE],
  owner: false,
};
const WRITE_DEVICE = { deviceId: "dev-w", roles: ["operator"], scopes: [READ, WRITE], owner: false };
const READ_DEVICE = { deviceId: "dev-r", roles: ["operator"], scopes: [READ], owner: false };
const NODE_DEVICE = { deviceId: "dev-n", roles: ["node"], scopes: [], owner: false };
const OWNER_DEVICE = {
  deviceId: "dev-owner",
  roles: ["node", "operator"],
  scopes: [...ALL_OPERATOR_SCOPES],
  owner: true,
};
const SELF_DEVICE = {
  deviceId: "dev-self",
  roles: ["operator"],
  scopes: [ADMIN, PAIRING, READ, WRITE],
  owner: false,
};

function allowed(c: ManagementCheck, what: string): void {
  assert.deepEqual(c, { ok: true }, what);
}

function denied(c: ManagementCheck, what: string, missingScope?: string): void {
  if (c.ok) assert.fail(`${what}: expected a denial`);
  assert.ok(c.reason.length > 0, `${what}: a denial explains itself`);
  if (missingScope !== undefined) assert.equal(c.missingScope, missingScope, what);
}

/** The lattice as the issue states it, independent of src/policy/scopes.ts. */
function covers(granted: readonly string[], required: string): boolean {
  if (granted.includes(required)) return true;
  if (required.startsWith("operator.") && granted.includes(ADMIN)) return true;
  return required === READ && granted.includes(WRITE);
}

describe("approve (C10: the approver's ceiling)", () => {
  test("C10: write+pairing caller cannot approve a request asking admin (missingScope operator.admin)", () => {
    denied(
      canApprove(WRITE_PAIRING, { deviceId: "dev-new", roles: ["operator"], scopes: [ADMIN] }),
      "write+pairing approving admin",
      ADMIN,
    );
    denied(
      canApprove(WRITE_PAIRING, { deviceId: "dev-new", roles: ["operator"], scopes: [READ, WRITE, ADMIN] }),
      "write+pairing approving read+write+admin",
      ADMIN,
    );
    denied(
      canApprove(WRITE_PAIRING, { deviceId: "dev-new", roles: ["operator"], scopes: [READ, APPROVALS] }),
      "write+pairing approving approvals",
      APPROVALS,
    );
  });

  test("C10: within the caller's scopes (write covers read) the approval is allowed", () => {
    allowed(
      canApprove(WRITE_PAIRING, { deviceId: "dev-new", roles: ["operator"], scopes: [READ, WRITE, PAIRING] }),
      "write+pairing approving read+write+pairing",
    );
    allowed(canApprove(WRITE_PAIRING, { deviceId: "dev-new", roles: ["operator"], scopes: [] }), "no scopes");
  });

  test("admin caller can approve admin and every operator scope, known or future", () => {
    allowed(
      canApprove(ADMIN_CALLER, {
        deviceId: "dev-new",
        roles: ["operator"],
        scopes: [...ALL_OPERATOR_SCOPES, "operator.future"],
      }),
      "admin approving everything operator",
    );
  });

  test("unknown non-operator scopes need an exact match even for admin", () => {
    denied(
      canApprove(ADMIN_CALLER, { deviceId: "dev-new", roles: ["operator"], scopes: ["custom.scope"] }),
      "admin approving custom.scope",
      "custom.scope",
    );
  });

  test("approving the node role needs operator.admin", () => {
    for (const roles of [["node"], ["node", "operator"]]) {
      for (const c of [
        WRITE_PAIRING,
        PAIRING_ONLY,
        caller([...ALL_OPERATOR_SCOPES.filter((s) => s !== ADMIN)]),
      ]) {
        denied(
          canApprove(c, { deviceId: "dev-new", roles, scopes: [] }),
          `non-admin approving ${roles}`,
          ADMIN,
        );
      }
      allowed(
        canApprove(ADMIN_CALLER, { deviceId: "dev-new", roles, scopes: [] }),
        `admin approving ${roles}`,
      );
    }
  });

  test("admin can approve a node request asking node.* scopes (node scopes are governed by admin, like rotate)", () => {
    // decide() admits node.* scopes for the node role and puts them in the ask; if no approver can
    // grant them, such a request can never be approved.
    allowed(
      canApprove(ADMIN_CALLER, { deviceId: "dev-new", roles: ["node"], scopes: [NODE_X] }),
      "admin approving a node request for node.x",
    );
  });

  test("S46: a device cannot approve its own request, whatever its scopes", () => {
    for (const c of [
      caller([ADMIN], "dev-self"),
      caller([ADMIN], "dev-self", true),
      caller([READ], "dev-self", true),
    ]) {
      const check = canApprove(c, { deviceId: "dev-self", roles: ["operator"], scopes: [READ] });
      denied(check, "self-approval");
      if (!check.ok) assert.match(check.reason, /own request/);
    }
    // A device-less caller (owner CLI on the host with the shared secret) is not "the device".
    allowed(
      canApprove(caller([ADMIN], null), { deviceId: "dev-self", roles: ["operator"], scopes: [ADMIN] }),
      "device-less admin",
    );
  });

  test("reject needs admin for node requests; a pairing caller may reject operator requests", () => {
    allowed(
      canReject(PAIRING_ONLY, { deviceId: "dev-new", roles: ["operator"] }),
      "pairing rejecting operator",
    );
    denied(
      canReject(PAIRING_ONLY, { deviceId: "dev-new", roles: ["node"] }),
      "pairing rejecting node",
      ADMIN,
    );
    allowed(
      canReject(ADMIN_CALLER, { deviceId: "dev-new", roles: ["node", "operator"] }),
      "admin rejecting node",
    );
  });
});

describe("rotate and revoke (C09)", () => {
  test("C09: a pairing-only caller cannot rotate an admin device's operator token to admin scopes", () => {
    denied(canRotate(PAIRING_ONLY, ADMIN_DEVICE, "operator", [ADMIN]), "pairing-only rotate to admin", ADMIN);
    denied(canRotate(PAIRING_ONLY, ADMIN_DEVICE, "operator", [WRITE]), "pairing-only rotate to write", WRITE);
    denied(
      canRotate(WRITE_PAIRING, ADMIN_DEVICE, "operator", [READ, ADMIN]),
      "write+pairing rotate to admin",
      ADMIN,
    );
    allowed(canRotate(WRITE_PAIRING, ADMIN_DEVICE, "operator", [READ, WRITE]), "write+pairing narrowing");
  });

  test("C09: a pairing-only caller cannot revoke an admin or write token", () => {
    denied(canRevoke(PAIRING_ONLY, ADMIN_DEVICE, "operator", [ADMIN]), "pairing-only revoking admin", ADMIN);
    denied(canRevoke(PAIRING_ONLY, WRITE_DEVICE, "operator", [READ, WRITE]), "pairing-only revoking write");
    allowed(canRevoke(ADMIN_CALLER, ADMIN_DEVICE, "operator", [ADMIN, READ]), "admin revoking admin");
    allowed(
      canRevoke(WRITE_PAIRING, WRITE_DEVICE, "operator", [READ, WRITE]),
      "write+pairing revoking write",
    );
  });

  test("rotation never leaves the device's approved baseline, even for admin", () => {
    denied(
      canRotate(ADMIN_CALLER, READ_DEVICE, "operator", [WRITE]),
      "admin widening a read device to write",
    );
    denied(
      canRotate(ADMIN_CALLER, READ_DEVICE, "operator", [ADMIN]),
      "admin widening a read device to admin",
    );
    denied(canRotate(ADMIN_CALLER, NODE_DEVICE, "node", [NODE_X]), "admin widening a node device");
    allowed(canRotate(ADMIN_CALLER, ADMIN_DEVICE, "operator", [READ, WRITE]), "admin narrowing");
    allowed(
      canRotate(ADMIN_CALLER, ADMIN_DEVICE, "operator", ["operator.future"]),
      "admin baseline covers future",
    );
  });

  test("a role that was never approved cannot be rotated (no role minting)", () => {
    for (const c of [ADMIN_CALLER, caller([ADMIN], "dev-a"), caller([ADMIN], null)]) {
      denied(canRotate(c, ADMIN_DEVICE, "node", []), "rotating an unapproved node role");
      denied(canRotate(c, NODE_DEVICE, "operator", []), "rotating an unapproved operator role");
    }
  });

  test("managing node tokens needs admin", () => {
    const node = { ...NODE_DEVICE, scopes: [NODE_X] };
    denied(canRotate(WRITE_PAIRING, node, "node", [NODE_X]), "write+pairing rotating node", ADMIN);
    denied(canRevoke(WRITE_PAIRING, node, "node", [NODE_X]), "write+pairing revoking node", ADMIN);
    allowed(canRotate(ADMIN_CALLER, node, "node", [NODE_X]), "admin rotating node within baseline");
    allowed(canRevoke(ADMIN_CALLER, node, "node", [NODE_X]), "admin revoking node");
  });
});

describe("device-token sessions without admin manage only their own device", () => {
  const other = WRITE_DEVICE;

  test("cannot touch another device: rotate, revoke, remove, rename, reject", () => {
    denied(canRotate(TOKEN_SESSION, other, "operator", [READ]), "rotate other");
    denied(canRevoke(TOKEN_SESSION, other, "operator", [READ]), "revoke other");
    denied(canRemove(TOKEN_SESSION, READ_DEVICE), "remove other");
    denied(canRename(TOKEN_SESSION, other), "rename other");
    denied(canReject(TOKEN_SESSION, { deviceId: "dev-new", roles: ["operator"] }), "reject other's request");
  });

  test("cannot approve another device's request either (approving manages that device; rejecting it is already denied)", () => {
    denied(
      canApprove(TOKEN_SESSION, { deviceId: "dev-new", roles: ["operator"], scopes: [READ] }),
      "approve other's request",
    );
  });

  test("can revoke its own token and manage its own device within its own scopes", () => {
    allowed(canRevoke(TOKEN_SESSION, SELF_DEVICE, "operator", [ADMIN, READ, WRITE]), "revoke own token");
    allowed(canRotate(TOKEN_SESSION, SELF_DEVICE, "operator", [READ]), "rotate own token narrower");
    denied(canRotate(TOKEN_SESSION, SELF_DEVICE, "operator", [ADMIN]), "rotate own token to admin", ADMIN);
    allowed(canRename(TOKEN_SESSION, SELF_DEVICE), "rename own device");
    allowed(canRemove(TOKEN_SESSION, { ...SELF_DEVICE, owner: false }), "remove own device");
  });

  test("with admin, a device-token session may manage other devices", () => {
    allowed(canRotate(TOKEN_SESSION_ADMIN, other, "operator", [READ]), "admin token rotating other");
    allowed(canRevoke(TOKEN_SESSION_ADMIN, other, "operator", [READ, WRITE]), "admin token revoking other");
    allowed(canRemove(TOKEN_SESSION_ADMIN, READ_DEVICE), "admin token removing other");
    allowed(canRename(TOKEN_SESSION_ADMIN, NODE_DEVICE), "admin token renaming a node");
  });

  test("canSee: a non-admin device-token session sees only its own device", () => {
    assert.equal(canSee(TOKEN_SESSION, "dev-self"), true);
    assert.equal(canSee(TOKEN_SESSION, "dev-w"), false);
    assert.equal(canSee(TOKEN_SESSION, "dev-owner"), false);
    assert.equal(canSee(TOKEN_SESSION_ADMIN, "dev-w"), true);
    assert.equal(canSee(caller([PAIRING], null), "dev-w"), true, "shared-secret session");
    assert.equal(
      canSee(caller([PAIRING], "dev-p", false), "dev-w"),
      true,
      "owner-key/shared-secret device session",
    );
  });
});

describe("remove and rename", () => {
  test("the owner device cannot be removed, by admin or by itself", () => {
    for (const c of [
      ADMIN_CALLER,
      caller([ADMIN], null),
      caller([ADMIN], "dev-owner"),
      caller([ADMIN], "dev-owner", true),
    ]) {
      denied(canRemove(c, OWNER_DEVICE), "removing the owner");
    }
  });

  test("removing needs the caller to cover the device's baseline; node devices need admin", () => {
    denied(canRemove(PAIRING_ONLY, ADMIN_DEVICE), "pairing-only removing admin", ADMIN);
    allowed(canRemove(WRITE_PAIRING, WRITE_DEVICE), "write+pairing removing write");
    denied(canRemove(WRITE_PAIRING, NODE_DEVICE), "write+pairing removing node", ADMIN);
    allowed(canRemove(ADMIN_CALLER, NODE_DEVICE), "admin removing node");
    denied(canRename(WRITE_PAIRING, NODE_DEVICE), "write+pairing renaming node", ADMIN);
    allowed(canRename(PAIRING_ONLY, WRITE_DEVICE), "pairing renaming operator");
  });

  test("admin can remove a node device whose baseline holds node.* scopes", () => {
    allowed(canRemove(ADMIN_CALLER, { ...NODE_DEVICE, scopes: [NODE_X] }), "admin removing a node.x device");
  });
});

describe("properties", () => {
  // node.* scopes are left out: who may grant them is the node-role rule (admin), not the lattice.
  const UNIVERSE = [ADMIN, READ, WRITE, APPROVALS, PAIRING, "operator.future"];
  const subsets = (xs: readonly string[]): string[][] =>
    Array.from({ length: 1 << xs.length }, (_, mask) => xs.filter((_, i) => (mask >> i) & 1));
  const ROLE_SETS = [["operator"], ["node"], ["node", "operator"]];

  test("exhaustive: canApprove ok ⇒ request scopes ⊆ caller scopes under the lattice, node ⇒ admin, not self", (t) => {
    let checked = 0;
    for (const callerScopes of subsets(UNIVERSE))
      for (const requestScopes of subsets(UNIVERSE))
        for (const roles of ROLE_SETS)
          for (const viaDeviceToken of [false, true])
            for (const requestDevice of ["dev-caller", "dev-other"]) {
              const c = caller(callerScopes, "dev-caller", viaDeviceToken);
              const request = { deviceId: requestDevice, roles, scopes: requestScopes };
              const check = canApprove(c, request);
              const where = JSON.stringify({ c, request, check });
              checked++;
              if (check.ok) {
                assert.ok(
                  requestScopes.every((s) => covers(callerScopes, s)),
                  `approved beyond caller: ${where}`,
                );
                assert.ok(
                  !roles.includes("node") || callerScopes.includes(ADMIN),
                  `node without admin: ${where}`,
                );
                assert.notEqual(requestDevice, "dev-caller", `self-approval: ${where}`);
              } else if (check.missingScope !== undefined) {
                assert.ok(
                  !covers(callerScopes, check.missingScope),
                  `missingScope the caller holds: ${where}`,
                );
              }
              // Not a deny-all: a shared-secret or owner-key session approving another device's
              // operator request within its own scopes is allowed.
              if (
                !viaDeviceToken &&
                requestDevice === "dev-other" &&
                roles.length === 1 &&
                roles[0] === "operator" &&
                requestScopes.every((s) => covers(callerScopes, s))
              ) {
                assert.ok(check.ok, `within-ceiling approval denied: ${where}`);
              }
            }
    t.diagnostic(`canApprove checked on ${checked} combinations`);
    console.log(`device-management: canApprove checked on ${checked} combinations`);
    assert.equal(checked, 64 * 64 * 3 * 2 * 2);
  });

  const scopeArb = fc.subarray([...UNIVERSE, "operator.talk.secrets", "custom.scope"]);
  const callerArb = fc.record({
    scopes: scopeArb,
    deviceId: fc.constantFrom<string | null>(null, "dev-a", "dev-b"),
    viaDeviceToken: fc.boolean(),
  });
  const deviceArb = fc.record({
    deviceId: fc.constantFrom("dev-a", "dev-b", "dev-c"),
    roles: fc.subarray(["node", "operator"]),
    scopes: scopeArb,
    owner: fc.boolean(),
  });

  test("random subsets: canApprove ok ⇒ request scopes ⊆ caller scopes (lattice)", () => {
    fc.assert(
      fc.property(callerArb, deviceArb, (c, d) => {
        const check = canApprove(c, d);
        if (!check.ok) return true;
        return d.scopes.every((s) => covers(c.scopes, s)) && c.deviceId !== d.deviceId;
      }),
      { numRuns: 5000 },
    );
  });

  test("random subsets: canRotate ok ⇒ role approved, new scopes ⊆ baseline, operator scopes ⊆ caller", () => {
    fc.assert(
      fc.property(
        callerArb,
        deviceArb,
        fc.constantFrom("operator", "node"),
        scopeArb,
        (c, d, role, newScopes) => {
          const check = canRotate(c, d, role, newScopes);
          if (!check.ok) return true;
          return (
            d.roles.includes(role) &&
            newScopes.every((s) => covers(d.scopes, s)) &&
            (role !== "operator" || newScopes.every((s) => covers(c.scopes, s))) &&
            (role === "operator" || c.scopes.includes(ADMIN)) &&
            (!c.viaDeviceToken || c.scopes.includes(ADMIN) || c.deviceId === d.deviceId)
          );
        },
      ),
      { numRuns: 5000 },
    );
  });

  test("random subsets: canRevoke/canRemove/canRename ok ⇒ own device or (not a non-admin token session)", () => {
    fc.assert(
      fc.property(callerArb, deviceArb, scopeArb, (c, d, tokenScopes) => {
        const other = c.deviceId !== d.deviceId;
        const limited = c.viaDeviceToken && !c.scopes.includes(ADMIN);
        const revoke = canRevoke(c, d, "operator", tokenScopes);
        const remove = canRemove(c, d);
        const rename = canRename(c, d);
        if (other && limited && (revoke.ok || remove.ok || rename.ok || canSee(c, d.deviceId))) return false;
        if (revoke.ok && other && !tokenScopes.every((s) => covers(c.scopes, s))) return false;
        if (remove.ok && d.owner) return false;
        return true;
      }),
      { numRuns: 5000 },
    );
  });
});

test("the owner device's roles cannot be revoked, whatever the caller holds", () => {
  const admin = { scopes: ["operator.admin"], deviceId: null, viaDeviceToken: false };
  const r = canRevoke(admin, { deviceId: "owner", owner: true }, "operator", []);
  assert.equal(r.ok, false);
});
