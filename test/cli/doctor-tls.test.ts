/** Doctor's exposure check reads gateway.tls: plain ws:// beyond loopback warns, wss:// does not. */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, it } from "node:test";
import { exposureCheck } from "../../src/doctor/config.js";
import { gatherConfig } from "../../src/doctor/facts.js";
import type { DoctorFacts, Finding } from "../../src/doctor/types.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";

const sandbox = createCliSandbox();
after(() => sandbox.cleanup());

function findings(gateway: Record<string, unknown>): Finding[] {
  const stateDir = sandbox.stateDir();
  writeFileSync(join(stateDir, "gatehouse.json"), JSON.stringify({ gateway }));
  const facts = {
    stateDir,
    nowMs: Date.now(),
    files: [],
    config: gatherConfig(stateDir, {}),
    store: { state: "missing", path: "" },
    gateway: { state: "not-running" },
    sandbox: { state: "skipped", reason: "not under test" },
  } as DoctorFacts;
  const out = exposureCheck.run(facts);
  assert.ok(Array.isArray(out), JSON.stringify(out));
  return out;
}

it("tls-missing: a LAN bind over plain ws:// warns and says how to turn TLS on; with gateway.tls it is quiet", () => {
  const plain = findings({ bind: "lan", auth: { mode: "token", token: "x".repeat(43) } });
  const tls = plain.find((f) => f.id === "tls-missing");
  assert.ok(tls, JSON.stringify(plain));
  assert.equal(tls.severity, "warn");
  assert.match(tls.fix, /gateway\.tls\.enabled to true/);
  const secure = findings({
    bind: "lan",
    auth: { mode: "token", token: "x".repeat(43) },
    tls: { enabled: true },
  });
  assert.equal(
    secure.some((f) => f.id === "tls-missing"),
    false,
  );
  assert.deepEqual(findings({ bind: "loopback" }), [], "loopback: nothing to say");
});
