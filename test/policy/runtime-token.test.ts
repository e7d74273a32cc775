/** C25: a runtime token admits its job's child with no more than the token carries, and nothing else. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decide, type AdmissionFacts, type RuntimeTokenCheck } from "../../src/policy/admission.js";
import { resolveLocality } from "../../src/policy/locality.js";

const local = resolveLocality(
  { peerAddress: "127.0.0.1", host: "127.0.0.1:1", origin: null, forwardedFor: null, hasProxyHeaders: false },
  [],
);
const browser = resolveLocality(
  {
    peerAddress: "127.0.0.1",
    host: "127.0.0.1:1",
    origin: "https://evil.example",
    forwardedFor: null,
    hasProxyHeaders: false,
  },
  [],
);

function facts(runtimeToken: RuntimeTokenCheck, over: Partial<AdmissionFacts> = {}): AdmissionFacts {
  return {
    locality: local,
    client: { id: "gateway-client", mode: "backend" },
    role: "operator",
    requestedScopes: ["operator.read"],
    sharedAuth: { ok: false, code: "AUTH_TOKEN_MISSING", provided: false },
    device: null,
    stored: null,
    deviceToken: { kind: "none" },
    runtimeToken,
    pending: null,
    config: { autoApproveLocal: true },
    ...over,
  };
}

const valid: RuntimeTokenCheck = { kind: "valid", scopes: ["operator.write"], jobId: "job-1" };

describe("runtime tokens", () => {
  it("C25: admits within the token's scopes without any shared secret or pairing", () => {
    const d = decide(facts(valid, { requestedScopes: ["operator.read", "operator.write"] }));
    assert.equal(d.kind, "admit");
    assert.ok(d.kind === "admit");
    assert.deepEqual(d.scopes, ["operator.read", "operator.write"]);
    assert.equal(d.credential, "runtime-token");
    assert.deepEqual(d.token, { action: "none" });
    assert.equal(
      d.runtimeJobId,
      valid.kind === "valid" ? valid.jobId : null,
      "the job is a field, not a rule id",
    );
  });

  it("C25: a request beyond the token's scopes is refused, not escalated", () => {
    const d = decide(facts(valid, { requestedScopes: ["operator.admin"] }));
    assert.deepEqual(d.kind === "reject" && d.code, "AUTH_SCOPE_MISMATCH");
  });

  it("C25: an ended, expired or unknown token admits nothing, even with a valid shared secret beside it", () => {
    const d = decide(facts({ kind: "invalid" }, { sharedAuth: { ok: true, method: "token" } }));
    assert.deepEqual(d.kind === "reject" && d.code, "AUTH_RUNTIME_TOKEN_INVALID");
  });

  it("a browser page cannot use a runtime token", () => {
    const d = decide(facts(valid, { locality: browser }));
    assert.equal(d.kind, "reject");
  });

  it("a runtime token is for operator sessions only", () => {
    const d = decide(facts(valid, { role: "node", requestedScopes: [] }));
    assert.equal(d.kind, "reject");
  });
});
