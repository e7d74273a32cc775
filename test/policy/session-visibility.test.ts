/** Who sees a session's command line and output: swept over every reader kind and chain position. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { sessionVisibility, type SessionReader } from "../../src/policy/session-visibility.js";

const CHAIN = ["session:sess_parent", "cron:cron_1", "device:owner"];
const SCOPE_SETS = [[], ["operator.read"], ["operator.write"], ["operator.pairing"], ["operator.admin"]];
const ACTORS = [
  "session:sess_parent",
  "cron:cron_1",
  "device:owner",
  "device:other",
  "cli/cli",
  "session:sess_me",
];

it("full view exactly for admins, the session itself and its chain of creators; everyone else a summary", () => {
  let cases = 0;
  for (const scopes of SCOPE_SETS) {
    for (const actor of ACTORS) {
      for (const runtimeJobId of [null, "sess_me", "sess_other"]) {
        const reader: SessionReader = { actor, scopes, runtimeJobId };
        const got = sessionVisibility(reader, "sess_me", CHAIN);
        const admin = scopes.includes("operator.admin");
        const expected = admin
          ? "session-admin"
          : runtimeJobId === "sess_me"
            ? "session-self"
            : CHAIN.includes(actor)
              ? "session-creator-chain"
              : "session-summary-only";
        assert.equal(got.rule, expected, JSON.stringify(reader));
        assert.equal(got.full, expected !== "session-summary-only");
        cases++;
      }
    }
  }
  assert.equal(cases, SCOPE_SETS.length * ACTORS.length * 3);
});

it("a device-less caller is only the chain's creator when its client id/mode is (the shared secret is one principal)", () => {
  const reader = { actor: "cli/cli", scopes: ["operator.read"], runtimeJobId: null };
  assert.equal(sessionVisibility(reader, "s", ["cli/cli"]).full, true);
  assert.equal(sessionVisibility(reader, "s", ["gateway-client/backend"]).full, false);
  assert.equal(sessionVisibility(reader, "s", []).full, false, "an unknown chain shows nothing");
});
