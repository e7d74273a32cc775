/** The method policy for custom methods: who may register what, and which requirement applies. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import {
  checkCustomMethod,
  methodRequirement,
  type MethodRequirement,
} from "../../src/policy/method-scopes.js";
import { ALL_OPERATOR_SCOPES } from "../../src/protocol/scopes.js";

const BUILTINS = ["health", "status", "device.pair.list", "sessions.spawn", "node.invoke", "cron.add"];

describe("policy: custom method requirements", () => {
  it("uses a registered requirement, the built-in table first, and admin for anything unknown", () => {
    const custom = new Map<string, MethodRequirement>([
      ["myapp.read", { role: "operator", scope: "operator.read" }],
      // Registration refuses this; the lookup must still never let it weaken a built-in.
      ["device.pair.approve", { role: "operator", scope: null }],
    ]);
    assert.deepEqual(methodRequirement("myapp.read", custom), { role: "operator", scope: "operator.read" });
    assert.deepEqual(methodRequirement("device.pair.approve", custom), {
      role: "operator",
      scope: "operator.pairing",
    });
    assert.deepEqual(methodRequirement("myapp.other", custom), { role: "operator", scope: "operator.admin" });
    assert.deepEqual(methodRequirement("myapp.read"), { role: "operator", scope: "operator.admin" });
    for (const name of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
      assert.deepEqual(methodRequirement(name, custom), { role: "operator", scope: "operator.admin" }, name);
    }
  });

  it("admits exactly the well-formed names outside built-in names and namespaces, with a role/scope that can be met", () => {
    const names = [
      "myapp.echo",
      "myapp",
      "MyApp.v2_x-y",
      "health",
      "health.extra",
      "status",
      "device.pair.list",
      "device.custom",
      "sessions",
      "node.custom",
      "cron.x",
      "connect",
      "connect.x",
      "",
      " myapp",
      "my app",
      "myapp.",
      ".myapp",
      "myapp..x",
      "1app.x",
      "a".repeat(129),
      "a".repeat(128),
    ];
    const roles = ["operator", "node", "owner", ""];
    const scopes: (string | null)[] = [null, ...ALL_OPERATOR_SCOPES, "operator.everything", "admin"];
    const namespaces = new Set(
      ["connect", ...BUILTINS, "audit", "sessions", "cron", "node", "device"].map((n) => n.split(".")[0]),
    );
    let admitted = 0;
    for (const name of names)
      for (const role of roles)
        for (const scope of scopes) {
          const refusal = checkCustomMethod(
            name,
            { role: role as MethodRequirement["role"], scope },
            BUILTINS,
          );
          const wellFormed = name.length <= 128 && /^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/.test(name);
          const free = wellFormed && !namespaces.has(name.split(".")[0]!);
          const meetable =
            (role === "operator" && (scope === null || ALL_OPERATOR_SCOPES.includes(scope))) ||
            (role === "node" && scope === null);
          assert.equal(
            refusal === null,
            free && meetable,
            `${JSON.stringify(name)} ${role} ${scope} → ${refusal}`,
          );
          if (refusal === null) admitted++;
          else if (!wellFormed) assert.equal(refusal, "invalid-name");
          else if (BUILTINS.includes(name) || name === "connect") assert.equal(refusal, "shadows-builtin");
        }
    assert.ok(admitted > 0);
  });
});
