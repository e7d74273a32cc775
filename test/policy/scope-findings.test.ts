/** What doctor and the start-up log warn about in a scope set (policy/scope-findings.ts). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { autoApprovesAdmin, legacyAdminGaps } from "../../src/policy/scope-findings.js";

describe("scope findings", () => {
  it("trusted-proxy auto-approval is flagged only when enabled and handing out operator.admin", () => {
    assert.equal(autoApprovesAdmin({ enabled: true, scopes: ["operator.read", "operator.admin"] }), true);
    assert.equal(autoApprovesAdmin({ enabled: false, scopes: ["operator.admin"] }), false);
    assert.equal(autoApprovesAdmin({ enabled: true, scopes: ["operator.write", "operator.pairing"] }), false);
  });

  it("OpenClaw's old admin-only set names which of read and write it lacks; other sets have no gap", () => {
    assert.deepEqual(legacyAdminGaps(["operator.admin"]), ["operator.read", "operator.write"]);
    assert.deepEqual(legacyAdminGaps(["operator.admin", "operator.write"]), ["operator.read"]);
    assert.deepEqual(legacyAdminGaps(["operator.admin", "operator.read", "operator.write"]), []);
    assert.deepEqual(legacyAdminGaps(["operator.pairing"]), []);
  });
});
