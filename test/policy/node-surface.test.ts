/** The node command-surface policy (C19), swept over its small fact space. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CallerProof } from "../../src/policy/device-management.js";
import {
  decideSurfaceApproval,
  decideSurfaceAtConnect,
  decideSurfaceInvoke,
  effectiveCommands,
  isExecCapableCommand,
  surfaceApprovalRequirement,
  surfaceApproveScopes,
  type SurfaceConnectFacts,
} from "../../src/policy/node-surface.js";
import { isRuleId } from "../../src/policy/rules.js";
import { missingScopes } from "../../src/policy/scopes.js";

const PAIRING = "operator.pairing";
const WRITE = "operator.write";
const ADMIN = "operator.admin";

const EXEC = [
  "system.run",
  "system.run.prepare",
  "system.which",
  "browser.proxy",
  "browser.proxy.upload.v1",
  "fs.listDir",
  "fs.readFile",
  "system.execApprovals.get",
  "system.execApprovals.set",
];
const ORDINARY = ["camera.snap", "screen.record", "location.get", "system.notify", "canvas.present"];

describe("node surface policy", () => {
  it("exec-capable commands: system.run*, system.which, browser.proxy*, fs.*, system.execApprovals.*", () => {
    for (const c of EXEC) assert.equal(isExecCapableCommand(c), true, c);
    for (const c of ORDINARY) assert.equal(isExecCapableCommand(c), false, c);
  });

  it("approving needs pairing; + write for commands; + admin as soon as one is exec-capable", () => {
    assert.deepEqual(surfaceApproveScopes([]), [PAIRING]);
    for (const c of ORDINARY) assert.deepEqual(surfaceApproveScopes([c]), [PAIRING, WRITE]);
    for (const c of EXEC) assert.deepEqual(surfaceApproveScopes([...ORDINARY, c]), [PAIRING, ADMIN]);
  });

  it("the approval requirement explain shows is the one approval checks: same scopes, same first rule", () => {
    const proofs: CallerProof[] = ["owner-key", "device-token"];
    for (const commands of [[], ["camera.snap"], ["camera.snap", "system.run"], ["fs.listDir"]]) {
      const need = surfaceApprovalRequirement(commands);
      assert.deepEqual(need.requiredScopes, surfaceApproveScopes(commands));
      for (const proof of proofs) {
        for (const scopes of [[PAIRING], [PAIRING, WRITE], [ADMIN]]) {
          const d = decideSurfaceApproval({ scopes, deviceId: "approver", proof }, "node", commands);
          assert.equal(d.trace[0], need.rule, `${commands.join(",")} ${proof} ${scopes.join(",")}`);
          assert.deepEqual(d.requiredScopes, need.requiredScopes);
        }
      }
    }
    assert.equal(surfaceApprovalRequirement(["system.run"]).rule, "surface-approve-exec-needs-admin");
    assert.equal(surfaceApprovalRequirement(["camera.snap"]).rule, "surface-approve-needs-write");
    assert.equal(surfaceApprovalRequirement([]).rule, "surface-approve-commandless");
  });

  it("approval sweep: allowed exactly when the approver's scopes cover what the surface needs", () => {
    const scopeSets = [
      [],
      [PAIRING],
      [WRITE],
      [PAIRING, WRITE],
      [PAIRING, "operator.read"],
      [ADMIN],
      [PAIRING, ADMIN],
    ];
    const surfaces = [[], ["camera.snap"], ["system.which"], ["camera.snap", "system.run"]];
    const proofs: CallerProof[] = ["owner-key", "device-token", "shared-secret", "state-dir"];
    for (const scopes of scopeSets) {
      for (const commands of surfaces) {
        for (const proof of proofs) {
          for (const self of [false, true]) {
            const d = decideSurfaceApproval(
              { scopes, deviceId: self ? "node" : "other", proof },
              "node",
              commands,
            );
            const selfRefused = self && proof !== "owner-key" && proof !== "state-dir";
            const covers = missingScopes(scopes, surfaceApproveScopes(commands)).length === 0;
            const label = JSON.stringify({ scopes, commands, proof, self });
            assert.equal(d.allow, !selfRefused && covers, label);
            for (const rule of d.trace) assert.ok(isRuleId(rule), rule);
            if (!d.allow && !selfRefused) {
              assert.equal(d.code, "MISSING_SCOPE", label);
              assert.deepEqual(d.missingScopes, missingScopes(scopes, surfaceApproveScopes(commands)), label);
            }
          }
        }
      }
    }
  });

  it("connect sweep: owner key and a setup code's first connect pin; otherwise pend anything beyond the approved surface", () => {
    const declaredSets = [[], ["system.which"], ["system.run", "system.which"], ["camera.snap"]];
    const approvedSets: Array<string[] | null> = [null, [], ["system.which"], ["system.run", "system.which"]];
    const admitted: Array<SurfaceConnectFacts["admittedBy"]> = ["owner-key", "setup-code", "other"];
    for (const declared of declaredSets) {
      for (const approved of approvedSets) {
        for (const admittedBy of admitted) {
          const d = decideSurfaceAtConnect({ declared, approved, admittedBy });
          const label = JSON.stringify({ declared, approved, admittedBy });
          for (const rule of d.trace) assert.ok(isRuleId(rule), rule);
          // What is exposed is never outside what is approved, unless it was just pinned.
          if (d.kind === "pin") {
            assert.ok(
              admittedBy === "owner-key" || (admittedBy === "setup-code" && approved === null),
              label,
            );
            assert.deepEqual(d.effective, [...declared].sort(), label);
            continue;
          }
          assert.deepEqual(d.effective, effectiveCommands(declared, approved), label);
          const within = approved !== null && declared.every((c) => approved.includes(c));
          assert.equal(d.kind, within ? "covered" : "pend", label);
          if (d.kind === "pend") {
            assert.deepEqual(d.requested, [...declared].sort(), label);
            assert.deepEqual(d.requiredScopes, surfaceApproveScopes(declared), label);
          }
        }
      }
    }
  });

  it("invoke: declared and approved, else which of the two is missing", () => {
    assert.deepEqual(decideSurfaceInvoke("system.run", ["system.which"], ["system.run", "system.which"]), {
      allow: false,
      rule: "surface-command-not-declared",
    });
    assert.deepEqual(decideSurfaceInvoke("system.run", ["system.run", "system.which"], ["system.which"]), {
      allow: false,
      rule: "surface-command-not-approved",
    });
    assert.equal(decideSurfaceInvoke("system.which", ["system.which"], null).allow, false);
    assert.deepEqual(decideSurfaceInvoke("system.which", ["system.which"], ["system.which"]), {
      allow: true,
      rule: "surface-command-approved",
    });
  });
});
