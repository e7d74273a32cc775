/** What a minted grant (a setup code) rests on, and so ends with (src/policy/authority.ts). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { grantSource, grantSourceKey } from "../../src/policy/authority.js";
import type { CallerProof } from "../../src/policy/device-management.js";

const PROOFS: CallerProof[] = [
  "owner-key",
  "device-token",
  "shared-secret",
  "runtime-token",
  "none",
  "state-dir",
];

test("a runtime-token caller's code rests on its session; a device's on the device; anything else on a root", () => {
  for (const proof of PROOFS) {
    for (const deviceId of [null, "dev-a"]) {
      for (const runtimeJobId of [null, "sess_1"]) {
        const source = grantSource({ proof, deviceId, runtimeJobId });
        const expected =
          proof === "runtime-token" && runtimeJobId !== null
            ? { kind: "session", sessionId: runtimeJobId }
            : deviceId !== null
              ? { kind: "device", deviceId }
              : { kind: "root" };
        assert.deepEqual(source, expected, `${proof} ${deviceId} ${runtimeJobId}`);
      }
    }
  }
});

test("only a runtime token speaks for a session: a job id beside another proof is not trusted", () => {
  assert.deepEqual(grantSource({ proof: "device-token", deviceId: null, runtimeJobId: "sess_1" }), {
    kind: "root",
  });
});

test("the keys a session's end and a device's cascade look codes up by", () => {
  assert.equal(grantSourceKey({ kind: "session", sessionId: "sess_1" }), "session:sess_1");
  assert.equal(grantSourceKey({ kind: "device", deviceId: "dev-a" }), "device:dev-a");
});
