/**
 * Device management as one pure decision (caller's authority, target record, action) → allow/deny
 * with a trace (C09, C10, S46, issue "Authority is one lifecycle"): nobody grants beyond their own
 * session, taking rights away needs covering the target's token and baseline (rotating to [] is no
 * way around a refused revoke), a revoked role is revived only by an approval from someone covering
 * its baseline, only the owner key touches the owner device, and the owner on the host covers every
 * device it takes rights away from. Checked case by case, then swept over the whole fact space.
 */
import type { GatewayRole } from "../../src/protocol/client-info.js";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decideManagement,
  isOwnerOnHost,
  proofOf,
  type CallerAuthority,
  type CallerProof,
  type ManagementAction,
  type ManagementDecision,
  type TargetDevice,
} from "../../src/policy/device-management.js";
import { MANAGEMENT_RULES, type ManagementRuleId } from "../../src/policy/management-rules.js";
import { ALL_OPERATOR_SCOPES } from "../../src/protocol/scopes.js";
import { SETUP_CODE_PROFILES } from "../../src/protocol/setup-code.js";

const ADMIN = "operator.admin";
const READ = "operator.read";
const WRITE = "operator.write";
const APPROVALS = "operator.approvals";
const PAIRING = "operator.pairing";
const NODE_X = "node.x";

/** A remote shared-secret session unless told otherwise: bounded by its scopes, never the owner. */
function caller(
  scopes: readonly string[],
  deviceId: string | null = "dev-caller",
  proof: CallerProof = "shared-secret",
  onHost = false,
): CallerAuthority {
  return { scopes, deviceId, proof, onHost };
}

function device(
  deviceId: string,
  roles: readonly GatewayRole[],
  scopes: readonly string[],
  extra: Partial<TargetDevice> = {},
): TargetDevice {
  return { deviceId, roles, scopes, owner: false, tokens: {}, ...extra };
}

const ADMIN_CALLER = caller([ADMIN], "dev-admin");
const WRITE_PAIRING = caller([WRITE, PAIRING], "dev-write-pairing");
const PAIRING_ONLY = caller([PAIRING], "dev-pairing-only");
/** A paired device authenticated by its device token, without admin. */
const TOKEN_SESSION = caller([READ, WRITE, PAIRING], "dev-self", "device-token");
const TOKEN_SESSION_ADMIN = caller([ADMIN, PAIRING], "dev-self", "device-token");
/** The owner's CLI on the gateway host: shared secret, loopback, no device. */
const HOST_CLI_PAIRING = caller([PAIRING], null, "shared-secret", true);

const ADMIN_DEVICE = device("dev-a", ["operator"], [ADMIN, PAIRING, READ, WRITE], {
  tokens: { operator: { revoked: false, scopes: [ADMIN, PAIRING, READ, WRITE] } },
});
const WRITE_DEVICE = device("dev-w", ["operator"], [READ, WRITE]);
const READ_DEVICE = device("dev-r", ["operator"], [READ]);
const NODE_DEVICE = device("dev-n", ["node"], []);
const OWNER_DEVICE = device("dev-owner", ["node", "operator"], [...ALL_OPERATOR_SCOPES], { owner: true });
const SELF_DEVICE = device("dev-self", ["operator"], [ADMIN, PAIRING, READ, WRITE]);

const request = (deviceId: string, roles: GatewayRole[], scopes: string[], sameKeyAsRecord = false) => ({
  deviceId,
  roles,
  scopes,
  sameKeyAsRecord,
});
const approve = (r: ReturnType<typeof request>): ManagementAction => ({ kind: "approve", request: r });
const reject = (r: ReturnType<typeof request>): ManagementAction => ({ kind: "reject", request: r });
const rotate = (role: GatewayRole, scopes?: string[]): ManagementAction => ({
  kind: "rotate",
  role,
  ...(scopes ? { scopes } : {}),
});
const revoke = (role: GatewayRole): ManagementAction => ({ kind: "revoke", role });
const REMOVE: ManagementAction = { kind: "remove" };
const RENAME: ManagementAction = { kind: "rename" };
const SEE: ManagementAction = { kind: "see" };

function allowed(d: ManagementDecision, what: string): void {
  assert.equal(d.allow, true, `${what}: ${JSON.stringify(d)}`);
}

function denied(d: ManagementDecision, what: string, rule?: ManagementRuleId, missingScope?: string): void {
  if (d.allow) assert.fail(`${what}: expected a denial, got ${JSON.stringify(d)}`);
  assert.equal(d.trace.at(-1), d.rule, `${what}: the trace ends with the refusing rule`);
  if (rule !== undefined) assert.equal(d.rule, rule, what);
  if (missingScope !== undefined) assert.equal(d.missingScopes[0], missingScope, what);
}

/** The lattice as the issue states it, independent of src/policy/scopes.ts. */
function covers(granted: readonly string[], required: string): boolean {
  if (granted.includes(required)) return true;
  if (required.startsWith("operator.") && granted.includes(ADMIN)) return true;
  return required === READ && granted.includes(WRITE);
}
const coversAll = (granted: readonly string[], required: readonly string[]) =>
  required.filter((s) => !s.startsWith("node.")).every((s) => covers(granted, s));

describe("rule vocabulary", () => {
  test("every rule id has one non-empty sentence, and traces hold only known ids", () => {
    for (const [id, sentence] of Object.entries(MANAGEMENT_RULES)) {
      assert.ok(sentence.length > 10, id);
    }
    const d = decideManagement(PAIRING_ONLY, ADMIN_DEVICE, revoke("operator"));
    for (const id of d.trace) assert.ok(id in MANAGEMENT_RULES, id);
  });

  test("proofs: auth methods map onto the proof kinds; the owner on the host is the owner key or the device-less shared secret, direct-local", () => {
    assert.equal(proofOf("owner-key"), "owner-key");
    assert.equal(proofOf("device-token"), "device-token");
    assert.equal(proofOf("setup-code"), "device-token");
    assert.equal(proofOf("token"), "shared-secret");
    assert.equal(proofOf("password"), "shared-secret");
    assert.equal(proofOf("runtime-token"), "runtime-token");
    assert.equal(proofOf("none"), "none");
    assert.equal(isOwnerOnHost(caller([], null, "shared-secret", true)), true);
    assert.equal(isOwnerOnHost(caller([], "dev-owner", "owner-key", true)), true);
    assert.equal(isOwnerOnHost(caller([], null, "state-dir", false)), true);
    assert.equal(isOwnerOnHost(caller([], null, "shared-secret", false)), false, "remote");
    assert.equal(
      isOwnerOnHost(caller([], "dev-x", "shared-secret", true)),
      false,
      "a device acts as itself (C09)",
    );
    assert.equal(isOwnerOnHost(caller([], "dev-x", "device-token", true)), false);
    assert.equal(isOwnerOnHost(caller([], null, "runtime-token", true)), false);
    assert.equal(isOwnerOnHost(caller([], null, "none", true)), false);
  });
});

describe("approve (C10: the approver's ceiling)", () => {
  test("C10: write+pairing caller cannot approve a request asking admin (missingScope operator.admin)", () => {
    for (const scopes of [[ADMIN], [READ, WRITE, ADMIN]]) {
      denied(
        decideManagement(WRITE_PAIRING, null, approve(request("dev-new", ["operator"], scopes))),
        `write+pairing approving ${scopes}`,
        "manage-grant-exceeds-caller",
        ADMIN,
      );
    }
    denied(
      decideManagement(WRITE_PAIRING, null, approve(request("dev-new", ["operator"], [READ, APPROVALS]))),
      "write+pairing approving approvals",
      "manage-grant-exceeds-caller",
      APPROVALS,
    );
  });

  test("C10: within the caller's scopes (write covers read) the approval is allowed", () => {
    allowed(
      decideManagement(
        WRITE_PAIRING,
        null,
        approve(request("dev-new", ["operator"], [READ, WRITE, PAIRING])),
      ),
      "write+pairing approving read+write+pairing",
    );
    allowed(
      decideManagement(WRITE_PAIRING, null, approve(request("dev-new", ["operator"], []))),
      "no scopes",
    );
  });

  test("granting is bounded by the session even for the owner on the host", () => {
    denied(
      decideManagement(HOST_CLI_PAIRING, null, approve(request("dev-new", ["operator"], [ADMIN]))),
      "host CLI with pairing only approving admin",
      "manage-grant-exceeds-caller",
      ADMIN,
    );
  });

  test("admin caller can approve admin and every operator scope, known or future", () => {
    allowed(
      decideManagement(
        ADMIN_CALLER,
        null,
        approve(request("dev-new", ["operator"], [...ALL_OPERATOR_SCOPES, "operator.future"])),
      ),
      "admin approving everything operator",
    );
  });

  test("unknown non-operator scopes need an exact match even for admin", () => {
    denied(
      decideManagement(ADMIN_CALLER, null, approve(request("dev-new", ["operator"], ["custom.scope"]))),
      "admin approving custom.scope",
      "manage-grant-exceeds-caller",
      "custom.scope",
    );
  });

  test("approving the node role needs operator.admin; node.* scopes are governed by admin", () => {
    for (const roles of [["node"], ["node", "operator"]] satisfies GatewayRole[][]) {
      for (const c of [WRITE_PAIRING, PAIRING_ONLY, caller(ALL_OPERATOR_SCOPES.filter((s) => s !== ADMIN))]) {
        denied(
          decideManagement(c, null, approve(request("dev-new", roles, []))),
          `non-admin approving ${roles}`,
          "manage-node-role-needs-admin",
          ADMIN,
        );
      }
      allowed(decideManagement(ADMIN_CALLER, null, approve(request("dev-new", roles, []))), `admin ${roles}`);
    }
    allowed(
      decideManagement(ADMIN_CALLER, null, approve(request("dev-new", ["node"], [NODE_X]))),
      "admin approving a node request for node.x",
    );
  });

  test("S46: a device cannot approve its own request, whatever its scopes", () => {
    for (const c of [
      caller([ADMIN], "dev-self"),
      caller([ADMIN], "dev-self", "device-token"),
      caller([ADMIN], "dev-self", "owner-key", true),
    ]) {
      denied(
        decideManagement(c, null, approve(request("dev-self", ["operator"], [READ]))),
        "self-approval",
        "manage-self-approval-refused",
      );
    }
    allowed(
      decideManagement(caller([ADMIN], null), null, approve(request("dev-self", ["operator"], [ADMIN]))),
      "a device-less admin is not the device",
    );
  });

  test("a revoked role is revived only by an approver covering that role's baseline", () => {
    const revoked = device("dev-v", ["operator"], [ADMIN, READ], {
      tokens: { operator: { revoked: true, scopes: [ADMIN, READ] } },
    });
    // A request that asks only read, for a device whose revoked operator role carried admin.
    const narrowAsk = request("dev-v", ["operator"], [READ], true);
    denied(
      decideManagement(caller([READ, PAIRING]), revoked, approve(narrowAsk)),
      "reader reviving an admin role",
      "manage-revival-needs-baseline-cover",
      ADMIN,
    );
    const ok = decideManagement(ADMIN_CALLER, revoked, approve(narrowAsk));
    allowed(ok, "admin reviving");
    assert.ok(ok.trace.includes("manage-revival-by-approval"));
    // A new key replaces the record: nothing of the revoked identity survives, nothing is revived.
    allowed(
      decideManagement(
        caller([READ, PAIRING]),
        revoked,
        approve(request("dev-v", ["operator"], [READ], false)),
      ),
      "a key change approves only what it asks",
    );
  });

  test("reject needs admin for node requests; a pairing caller may reject operator requests", () => {
    allowed(decideManagement(PAIRING_ONLY, null, reject(request("dev-new", ["operator"], []))), "operator");
    denied(
      decideManagement(PAIRING_ONLY, null, reject(request("dev-new", ["node"], []))),
      "pairing rejecting node",
      "manage-node-role-needs-admin",
      ADMIN,
    );
    allowed(
      decideManagement(ADMIN_CALLER, null, reject(request("dev-new", ["node", "operator"], []))),
      "admin",
    );
  });
});

describe("rotate and revoke (C09): covering the token and the device", () => {
  test("C09: a pairing-only caller cannot rotate an admin device's operator token, to admin or to anything", () => {
    for (const scopes of [[ADMIN], [WRITE], [READ], [], undefined]) {
      denied(
        decideManagement(PAIRING_ONLY, ADMIN_DEVICE, rotate("operator", scopes)),
        `pairing-only rotate to ${JSON.stringify(scopes)}`,
        undefined,
        ADMIN,
      );
    }
  });

  test("rotating to [] is no way around a refused revoke", () => {
    denied(decideManagement(PAIRING_ONLY, ADMIN_DEVICE, revoke("operator")), "revoke", undefined, ADMIN);
    denied(
      decideManagement(PAIRING_ONLY, ADMIN_DEVICE, rotate("operator", [])),
      "rotate to []",
      "manage-target-wider-than-caller",
      ADMIN,
    );
    denied(
      decideManagement(WRITE_PAIRING, ADMIN_DEVICE, rotate("operator", [READ, WRITE])),
      "write+pairing narrowing an admin device",
      "manage-target-wider-than-caller",
      ADMIN,
    );
  });

  test("C09: who covers the device may revoke and rotate within their own scopes", () => {
    allowed(decideManagement(ADMIN_CALLER, ADMIN_DEVICE, revoke("operator")), "admin revoking admin");
    allowed(
      decideManagement(WRITE_PAIRING, WRITE_DEVICE, revoke("operator")),
      "write+pairing revoking write",
    );
    allowed(
      decideManagement(WRITE_PAIRING, WRITE_DEVICE, rotate("operator", [READ])),
      "write narrowing write",
    );
    denied(decideManagement(PAIRING_ONLY, WRITE_DEVICE, revoke("operator")), "pairing revoking write");
  });

  test("the device's whole baseline counts, not only the token's (narrowed) scopes", () => {
    const narrowedAdmin = device("dev-na", ["operator"], [ADMIN, READ], {
      tokens: { operator: { revoked: false, scopes: [READ] } },
    });
    denied(
      decideManagement(caller([READ, PAIRING]), narrowedAdmin, revoke("operator")),
      "reader revoking a narrowed admin device",
      "manage-target-wider-than-caller",
      ADMIN,
    );
  });

  test("a revoked slot is never revived by rotation, whoever asks", () => {
    const revoked = device("dev-v", ["operator"], [ADMIN], {
      tokens: { operator: { revoked: true, scopes: [ADMIN] } },
    });
    for (const c of [
      ADMIN_CALLER,
      HOST_CLI_PAIRING,
      caller([ADMIN], "dev-v", "device-token"),
      PAIRING_ONLY,
    ]) {
      for (const scopes of [undefined, [], [READ]]) {
        denied(
          decideManagement(c, revoked, rotate("operator", scopes)),
          `rotating a revoked slot to ${JSON.stringify(scopes)}`,
          "manage-revoked-slot-needs-approval",
        );
      }
    }
  });

  test("rotation never leaves the device's approved baseline, even for admin", () => {
    denied(decideManagement(ADMIN_CALLER, READ_DEVICE, rotate("operator", [WRITE])), "read→write");
    denied(decideManagement(ADMIN_CALLER, READ_DEVICE, rotate("operator", [ADMIN])), "read→admin");
    denied(decideManagement(ADMIN_CALLER, NODE_DEVICE, rotate("node", [NODE_X])), "node widening");
    const narrowed = decideManagement(ADMIN_CALLER, ADMIN_DEVICE, rotate("operator", [READ, WRITE]));
    allowed(narrowed, "admin narrowing");
    assert.deepEqual(narrowed.allow && narrowed.tokenScopes, [READ, WRITE]);
    allowed(decideManagement(ADMIN_CALLER, ADMIN_DEVICE, rotate("operator", ["operator.future"])), "future");
  });

  test("without new scopes a rotation keeps the token's scopes, else the role's baseline", () => {
    const d = decideManagement(ADMIN_CALLER, ADMIN_DEVICE, rotate("operator"));
    assert.deepEqual(d.allow && d.tokenScopes, [ADMIN, PAIRING, READ, WRITE]);
    const fresh = decideManagement(
      ADMIN_CALLER,
      device("dev-f", ["operator"], [READ, NODE_X]),
      rotate("operator"),
    );
    assert.deepEqual(fresh.allow && fresh.tokenScopes, [READ]);
  });

  test("a role that was never approved cannot be rotated (no role minting)", () => {
    for (const c of [ADMIN_CALLER, caller([ADMIN], "dev-a"), caller([ADMIN], null)]) {
      denied(decideManagement(c, ADMIN_DEVICE, rotate("node", [])), "node", "manage-role-not-approved");
      denied(
        decideManagement(c, NODE_DEVICE, rotate("operator", [])),
        "operator",
        "manage-role-not-approved",
      );
    }
  });

  test("managing node tokens needs admin", () => {
    const node = device("dev-n", ["node"], [NODE_X]);
    denied(decideManagement(WRITE_PAIRING, node, rotate("node", [NODE_X])), "rotate", undefined, ADMIN);
    denied(decideManagement(WRITE_PAIRING, node, revoke("node")), "revoke", undefined, ADMIN);
    allowed(decideManagement(ADMIN_CALLER, node, rotate("node", [NODE_X])), "admin rotating node");
    allowed(decideManagement(ADMIN_CALLER, node, revoke("node")), "admin revoking node");
  });
});

describe("the owner device is the owner key's alone", () => {
  test("nobody rotates or renames the owner device but the owner key; nobody removes it or revokes its roles", () => {
    const others = [
      ADMIN_CALLER,
      HOST_CLI_PAIRING,
      caller([ADMIN, PAIRING], null, "shared-secret", true),
      caller([ADMIN], "dev-x", "device-token"),
    ];
    for (const c of others) {
      denied(
        decideManagement(c, OWNER_DEVICE, rotate("operator", [])),
        "rotate",
        "manage-owner-device-owner-key-only",
      );
      denied(decideManagement(c, OWNER_DEVICE, RENAME), "rename", "manage-owner-device-owner-key-only");
    }
    const ownerKey = caller([...ALL_OPERATOR_SCOPES], "dev-owner", "owner-key", true);
    allowed(decideManagement(ownerKey, OWNER_DEVICE, RENAME), "owner key renaming itself");
    allowed(decideManagement(ownerKey, OWNER_DEVICE, rotate("operator")), "owner key rotating its own token");
    for (const c of [...others, ownerKey, caller([ADMIN], null, "state-dir", true)]) {
      denied(decideManagement(c, OWNER_DEVICE, REMOVE), "remove", "manage-owner-device-not-removable");
      denied(
        decideManagement(c, OWNER_DEVICE, revoke("operator")),
        "revoke",
        "manage-owner-roles-not-revocable",
      );
    }
  });
});

describe("device-token sessions without admin manage only their own device", () => {
  const other = WRITE_DEVICE;

  test("cannot touch another device: rotate, revoke, remove, rename, reject, approve, see", () => {
    for (const action of [rotate("operator", [READ]), revoke("operator"), REMOVE, RENAME, SEE]) {
      denied(
        decideManagement(TOKEN_SESSION, other, action),
        action.kind,
        "manage-token-session-own-device-only",
      );
    }
    for (const action of [
      reject(request("dev-new", ["operator"], [])),
      approve(request("dev-new", ["operator"], [READ])),
    ]) {
      denied(
        decideManagement(TOKEN_SESSION, null, action),
        action.kind,
        "manage-token-session-own-device-only",
      );
    }
  });

  test("can revoke its own token and manage its own device within its own scopes", () => {
    allowed(decideManagement(TOKEN_SESSION, SELF_DEVICE, revoke("operator")), "revoke own token");
    allowed(decideManagement(TOKEN_SESSION, SELF_DEVICE, rotate("operator", [READ])), "rotate own narrower");
    denied(
      decideManagement(TOKEN_SESSION, SELF_DEVICE, rotate("operator", [ADMIN])),
      "rotate own token to admin",
      "manage-grant-exceeds-caller",
      ADMIN,
    );
    allowed(decideManagement(TOKEN_SESSION, SELF_DEVICE, RENAME), "rename own device");
    allowed(decideManagement(TOKEN_SESSION, SELF_DEVICE, REMOVE), "remove own device");
    allowed(decideManagement(TOKEN_SESSION, SELF_DEVICE, SEE), "see own device");
  });

  test("with admin, a device-token session may manage other devices", () => {
    allowed(decideManagement(TOKEN_SESSION_ADMIN, other, rotate("operator", [READ])), "rotate other");
    allowed(decideManagement(TOKEN_SESSION_ADMIN, other, revoke("operator")), "revoke other");
    allowed(decideManagement(TOKEN_SESSION_ADMIN, READ_DEVICE, REMOVE), "remove other");
    allowed(decideManagement(TOKEN_SESSION_ADMIN, NODE_DEVICE, RENAME), "rename a node");
  });

  test("see: shared-secret and owner-key sessions see every device", () => {
    allowed(decideManagement(caller([PAIRING], null), OWNER_DEVICE, SEE), "shared-secret session");
    allowed(
      decideManagement(caller([PAIRING], "dev-p", "owner-key"), WRITE_DEVICE, SEE),
      "owner-key session",
    );
  });
});

describe("remove and rename", () => {
  test("removing needs covering the device's baseline; node devices need admin", () => {
    denied(decideManagement(PAIRING_ONLY, ADMIN_DEVICE, REMOVE), "pairing removing admin", undefined, ADMIN);
    allowed(decideManagement(WRITE_PAIRING, WRITE_DEVICE, REMOVE), "write+pairing removing write");
    denied(
      decideManagement(WRITE_PAIRING, NODE_DEVICE, REMOVE),
      "removing node",
      "manage-node-role-needs-admin",
    );
    allowed(decideManagement(ADMIN_CALLER, NODE_DEVICE, REMOVE), "admin removing node");
    allowed(decideManagement(ADMIN_CALLER, device("dev-n", ["node"], [NODE_X]), REMOVE), "node.x device");
    denied(
      decideManagement(WRITE_PAIRING, NODE_DEVICE, RENAME),
      "renaming node",
      "manage-node-role-needs-admin",
    );
    allowed(decideManagement(PAIRING_ONLY, WRITE_DEVICE, RENAME), "pairing renaming operator");
  });

  test("issue 13: the owner on the host removes any non-owner device with a pairing-only session; remote it cannot", () => {
    for (const target of [ADMIN_DEVICE, NODE_DEVICE, WRITE_DEVICE]) {
      const d = decideManagement(HOST_CLI_PAIRING, target, REMOVE);
      allowed(d, `host CLI removing ${target.deviceId}`);
      assert.ok(d.trace.includes("manage-caller-owner-on-host"));
      allowed(decideManagement(HOST_CLI_PAIRING, target, revoke(target.roles[0]!)), "and revoking");
    }
    denied(
      decideManagement(caller([PAIRING], null, "shared-secret", false), ADMIN_DEVICE, REMOVE),
      "remote shared-secret pairing-only",
      "manage-target-wider-than-caller",
      ADMIN,
    );
    denied(
      decideManagement(caller([PAIRING], "dev-p", "device-token", true), ADMIN_DEVICE, REMOVE),
      "a local device-token session is not the owner",
    );
    denied(
      decideManagement(caller([PAIRING], null, "runtime-token", true), ADMIN_DEVICE, REMOVE),
      "a runtime token is not the owner",
      "manage-target-wider-than-caller",
    );
  });
});

const NOW = 1_800_000_000_000;
const DAY = 86_400_000;
/** Retiring a browser device idle 40 days against a 30-day limit, unless told otherwise. */
function retire(
  facts: Partial<Extract<ManagementAction, { kind: "retire-stale-browser" }>["device"]> = {},
): ManagementAction {
  return {
    kind: "retire-stale-browser",
    device: {
      clientId: "openclaw-control-ui",
      clientMode: "webchat",
      connected: false,
      lastActiveAtMs: NOW - 40 * DAY,
      nowMs: NOW,
      idleLimitMs: 30 * DAY,
      ...facts,
    },
  };
}

describe("retiring stale browser devices in bulk (issue 14 item 6)", () => {
  const UI_DEVICE = device("dev-ui", ["operator"], [ADMIN, PAIRING, READ]);
  test("a browser device idle past the limit with no live session is retired like a removal", () => {
    const d = decideManagement(HOST_CLI_PAIRING, UI_DEVICE, retire());
    allowed(d, "the owner on the host");
    assert.deepEqual(d.trace, ["manage-caller-owner-on-host", "manage-retire-stale-browser"]);
    allowed(decideManagement(ADMIN_CALLER, UI_DEVICE, retire()), "an admin session covers it");
    allowed(
      decideManagement(ADMIN_CALLER, UI_DEVICE, retire({ clientId: "webchat-ui", clientMode: "webchat" })),
      "webchat is a browser too",
    );
  });

  test("kept: in use, recently active, not a browser, the caller's own, the owner, or wider than the caller", () => {
    denied(
      decideManagement(ADMIN_CALLER, UI_DEVICE, retire({ connected: true })),
      "connected",
      "manage-retire-connected",
    );
    denied(
      decideManagement(ADMIN_CALLER, UI_DEVICE, retire({ lastActiveAtMs: NOW - 29 * DAY })),
      "seen 29 days ago",
      "manage-retire-recently-active",
    );
    denied(
      decideManagement(ADMIN_CALLER, WRITE_DEVICE, retire({ clientId: "cli", clientMode: "cli" })),
      "a CLI",
      "manage-retire-not-browser",
    );
    denied(
      decideManagement(caller([ADMIN, PAIRING], "dev-ui", "device-token"), UI_DEVICE, retire()),
      "the browser in use",
      "manage-retire-own-device",
    );
    denied(
      decideManagement(HOST_CLI_PAIRING, OWNER_DEVICE, retire()),
      "owner",
      "manage-owner-device-not-removable",
    );
    denied(
      decideManagement(caller([PAIRING], null, "shared-secret", false), UI_DEVICE, retire()),
      "a remote pairing-only session cannot retire an admin browser",
      "manage-target-wider-than-caller",
      ADMIN,
    );
  });
});

describe("setup codes", () => {
  test("minting needs the profile's scopes: limited needs what it grants, full and node need admin", () => {
    denied(
      decideManagement(PAIRING_ONLY, null, { kind: "mint-setup-code", profile: "operator-limited" }),
      "l",
    );
    allowed(
      decideManagement(caller([PAIRING, WRITE, APPROVALS]), null, {
        kind: "mint-setup-code",
        profile: "operator-limited",
      }),
      "limited",
    );
    for (const profile of ["operator-full", "node"] as const) {
      denied(
        decideManagement(caller([PAIRING, WRITE, APPROVALS]), null, { kind: "mint-setup-code", profile }),
        profile,
        "manage-mint-exceeds-caller",
        ADMIN,
      );
      allowed(decideManagement(ADMIN_CALLER, null, { kind: "mint-setup-code", profile }), profile);
    }
    denied(
      decideManagement(HOST_CLI_PAIRING, null, { kind: "mint-setup-code", profile: "operator-full" }),
      "a grant is bounded by the session, even on the host",
    );
  });
});

// ---- the whole fact space ----

const UNIVERSE = [ADMIN, WRITE, READ, PAIRING];
const subsets = (xs: readonly string[]): string[][] =>
  Array.from({ length: 1 << xs.length }, (_, mask) => xs.filter((_, i) => (mask >> i) & 1));
const PROOFS: CallerProof[] = [
  "owner-key",
  "device-token",
  "shared-secret",
  "runtime-token",
  "none",
  "state-dir",
];
const ROLE_SETS: GatewayRole[][] = [["operator"], ["node"], ["node", "operator"]];
type Slot = { revoked: boolean; scopes: readonly string[] } | undefined;

function* callers(): Generator<CallerAuthority> {
  for (const scopes of subsets([ADMIN, READ, PAIRING]))
    for (const proof of PROOFS)
      for (const onHost of [false, true])
        for (const deviceId of [null, "dev-t", "dev-c"]) yield { scopes, proof, onHost, deviceId };
}

function* targets(): Generator<TargetDevice> {
  for (const owner of [false, true])
    for (const roles of ROLE_SETS)
      for (const scopes of subsets([ADMIN, READ, PAIRING])) {
        const opSlots: Slot[] = [
          undefined,
          { revoked: false, scopes },
          { revoked: false, scopes: [] },
          { revoked: true, scopes },
        ];
        for (const op of opSlots)
          for (const node of [undefined, { revoked: true, scopes: [] }] as Slot[]) {
            const tokens: Partial<Record<GatewayRole, { revoked: boolean; scopes: readonly string[] }>> = {};
            if (op) tokens.operator = op;
            if (node) tokens.node = node;
            yield { deviceId: "dev-t", owner, roles, scopes, tokens };
          }
      }
}

const DEVICE_ACTIONS: ManagementAction[] = [
  SEE,
  REMOVE,
  RENAME,
  revoke("operator"),
  revoke("node"),
  ...(["operator", "node"] satisfies GatewayRole[]).flatMap((role) =>
    [undefined, [], [READ], [ADMIN]].map((s) => rotate(role, s)),
  ),
  ...[
    retire(),
    retire({ connected: true }),
    retire({ lastActiveAtMs: NOW - DAY }),
    retire({ clientId: "cli", clientMode: "cli" }),
  ],
];

describe("exhaustive over callers × targets × actions", () => {
  test("invariants of every decision, and rotate-to-[] never allowed where revoke is refused", (t) => {
    let checked = 0;
    const problems: string[] = [];
    const fail = (
      what: string,
      c: CallerAuthority,
      tg: TargetDevice,
      a: ManagementAction,
      d: ManagementDecision,
    ) => {
      if (problems.length < 5) problems.push(`${what}: ${JSON.stringify({ c, tg, a, d })}`);
    };
    for (const c of callers()) {
      const root =
        c.proof === "state-dir" ||
        (c.onHost && (c.proof === "owner-key" || (c.proof === "shared-secret" && c.deviceId === null)));
      const ownerKey = c.proof === "owner-key" || c.proof === "state-dir";
      const admin = c.scopes.includes(ADMIN);
      for (const tg of targets()) {
        const own = c.deviceId === tg.deviceId;
        const decisions = new Map<ManagementAction, ManagementDecision>();
        for (const a of DEVICE_ACTIONS) {
          const d = decideManagement(c, tg, a);
          decisions.set(a, d);
          checked++;
          for (const id of d.trace) if (!(id in MANAGEMENT_RULES)) fail("unknown rule id", c, tg, a, d);
          if (!d.allow) {
            if (d.missingScopes.some((s) => covers(c.scopes, s)))
              fail("missing scope the caller holds", c, tg, a, d);
            continue;
          }
          if (c.proof === "device-token" && !admin && !own)
            fail("token session beyond its device", c, tg, a, d);
          if (tg.owner && (a.kind === "remove" || a.kind === "revoke"))
            fail("owner device lost", c, tg, a, d);
          if (tg.owner && (a.kind === "rotate" || a.kind === "rename") && !ownerKey)
            fail("owner device touched", c, tg, a, d);
          if (a.kind === "rotate") {
            const slot = tg.tokens[a.role];
            if (slot?.revoked) fail("revoked slot rotated", c, tg, a, d);
            if (!tg.roles.includes(a.role)) fail("unapproved role rotated", c, tg, a, d);
            if (!(d.tokenScopes ?? []).every((s) => covers(tg.scopes, s)))
              fail("token beyond baseline", c, tg, a, d);
            if (a.role === "operator" && !coversAll(c.scopes, d.tokenScopes ?? []))
              fail("grant beyond caller", c, tg, a, d);
            if (a.role !== "operator" && !admin) fail("node token without admin", c, tg, a, d);
          }
          if (a.kind === "retire-stale-browser") {
            if (own) fail("retired the caller's own browser", c, tg, a, d);
            if (a.device.connected) fail("retired a connected device", c, tg, a, d);
            if (a.device.nowMs - a.device.lastActiveAtMs < a.device.idleLimitMs)
              fail("retired a recently active device", c, tg, a, d);
            if (a.device.clientId !== "openclaw-control-ui")
              fail("retired a device that is no browser", c, tg, a, d);
          }
          const takesAway =
            a.kind === "remove" ||
            a.kind === "retire-stale-browser" ||
            a.kind === "revoke" ||
            a.kind === "rotate";
          if (tg.owner && a.kind === "retire-stale-browser") fail("owner device retired", c, tg, a, d);
          if (takesAway && !own && !root) {
            const slotScopes =
              a.kind === "remove" || a.kind === "retire-stale-browser"
                ? []
                : (tg.tokens[a.role]?.scopes ?? []);
            if (!coversAll(c.scopes, [...tg.scopes, ...slotScopes]))
              fail("took from a wider device", c, tg, a, d);
            if (tg.roles.some((r) => r !== "operator") && !admin)
              fail("took from a node device without admin", c, tg, a, d);
          }
        }
        // The loophole of the issue: rotating another device's token to [] where revoking it is refused.
        // (The owner key may rotate its own device's token; nobody revokes the owner's roles.)
        for (const role of ["operator", "node"] satisfies GatewayRole[]) {
          const toEmpty = decideManagement(c, tg, rotate(role, []));
          const rev = decideManagement(c, tg, revoke(role));
          if (toEmpty.allow && !rev.allow && !own && !(tg.owner && ownerKey))
            fail("rotate to [] where revoke is refused", c, tg, rotate(role, []), toEmpty);
        }
        // Not a deny-all: who covers a non-owner device may remove and revoke it.
        if (!tg.owner && (root || admin) && !decisions.get(REMOVE)!.allow) {
          fail("covering caller may not remove", c, tg, REMOVE, decisions.get(REMOVE)!);
        }
      }
    }
    assert.deepEqual(problems, []);
    t.diagnostic(`device actions checked on ${checked} combinations`);
    console.log(`device-management: device actions checked on ${checked} combinations`);
  });

  test("approve: allow ⇒ within the caller's session, node ⇒ admin, not self, revival ⇒ covers the baseline", (t) => {
    let checked = 0;
    const problems: string[] = [];
    for (const c of callers())
      for (const roles of ROLE_SETS)
        for (const scopes of subsets([ADMIN, READ, PAIRING]))
          for (const target of [null, ...targets()].filter(
            (x) => x === null || (!x.owner && x.roles.length === 2),
          ))
            for (const sameKeyAsRecord of target ? [false, true] : [false]) {
              const r = { deviceId: "dev-t", roles, scopes, sameKeyAsRecord };
              const d = decideManagement(c, target, approve(r));
              checked++;
              if (!d.allow) continue;
              const admin = c.scopes.includes(ADMIN);
              const bad =
                !coversAll(c.scopes, scopes) ||
                (roles.includes("node") && !admin) ||
                c.deviceId === "dev-t" ||
                (c.proof === "device-token" && !admin) ||
                (target !== null &&
                  sameKeyAsRecord &&
                  roles.some(
                    (role) =>
                      target.tokens[role]?.revoked &&
                      (role === "operator" ? !coversAll(c.scopes, target.scopes) : !admin),
                  ));
              if (bad && problems.length < 5) problems.push(JSON.stringify({ c, r, target, d }));
            }
    assert.deepEqual(problems, []);
    t.diagnostic(`approve checked on ${checked} combinations`);
    console.log(`device-management: approve checked on ${checked} combinations`);
  });

  test("mint: allowed exactly when the caller covers the profile", () => {
    for (const scopes of subsets([...UNIVERSE, APPROVALS]))
      for (const profile of SETUP_CODE_PROFILES) {
        const need = profile === "operator-limited" ? [APPROVALS, READ, WRITE] : [ADMIN];
        const d = decideManagement(caller(scopes), null, { kind: "mint-setup-code", profile });
        assert.equal(d.allow, coversAll(scopes, need), JSON.stringify({ scopes, profile, d }));
      }
  });

  test("random facts (fast-check): the decision is total and deterministic", () => {
    const scopeArb = fc.subarray([
      ADMIN,
      READ,
      WRITE,
      APPROVALS,
      PAIRING,
      "operator.future",
      "custom.scope",
      NODE_X,
    ]);
    fc.assert(
      fc.property(
        fc.record({
          scopes: scopeArb,
          deviceId: fc.constantFrom<string | null>(null, "dev-a", "dev-b"),
          proof: fc.constantFrom(...PROOFS),
          onHost: fc.boolean(),
        }),
        fc.record({
          deviceId: fc.constantFrom("dev-a", "dev-b"),
          owner: fc.boolean(),
          roles: fc.subarray<GatewayRole>(["node", "operator"]),
          scopes: scopeArb,
          tokens: fc.dictionary(
            fc.constantFrom<GatewayRole>("operator", "node"),
            fc.record({ revoked: fc.boolean(), scopes: scopeArb }),
          ),
        }),
        fc.constantFrom(...DEVICE_ACTIONS),
        (c, tg, a) => {
          const d1 = decideManagement(c, tg, a);
          const d2 = decideManagement(c, tg, a);
          assert.deepEqual(d1, d2);
          return d1.trace.length > 0;
        },
      ),
      { numRuns: 5000 },
    );
  });
});
