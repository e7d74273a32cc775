/**
 * The client's public entries ship as one bundle (scripts/bundle.mjs): these checks fail when the
 * bundle is older than tsc's output, when the two entries stop sharing their classes, when a
 * sub-agent's import loads more than the bundle, or when code the bundle loads lazily by a path
 * relative to its module (the error table) no longer resolves from the bundle's directory.
 */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { FakeGateway, helloOk, nextEvent } from "../client/fake-gateway.js";
import { GatewayError } from "../../src/protocol/index.js";
import { ROOT } from "./package-entries.js";

const BUNDLE_DIR = join(ROOT, "dist", "src", "bundle");
const MODULE_LOG = fileURLToPath(new URL("../helpers/module-log.js", import.meta.url));

interface Inputs {
  inputs: { file: string; sha256: string }[];
}

describe("the client bundle", () => {
  it("is built from the tsc output beside it (after tsc alone, run npm run build)", () => {
    const { inputs } = JSON.parse(readFileSync(join(BUNDLE_DIR, "inputs.json"), "utf8")) as Inputs;
    assert.ok(inputs.some((i) => i.file === "dist/src/client/env.js"));
    assert.ok(
      inputs.some((i) => i.file === "dist/src/cli/cli.js"),
      "the CLI bundle's inputs are listed too",
    );
    const stale = inputs.filter(
      (i) =>
        createHash("sha256")
          .update(readFileSync(join(ROOT, i.file)))
          .digest("hex") !== i.sha256,
    );
    assert.deepEqual(
      stale.map((i) => i.file),
      [],
      "the bundle is older than these files: run npm run build (tsc, then scripts/bundle.mjs)",
    );
  });

  it("is a package scope of its own that sets only the module type (Node's loader stops there)", () => {
    // A name or exports here would take the package's own name from the modules in this folder.
    assert.deepEqual(JSON.parse(readFileSync(join(BUNDLE_DIR, "package.json"), "utf8")), { type: "module" });
  });

  it("gives both entries the same classes: an error from one is instanceof the other's", async () => {
    const full = await import("gatehouse-gateway/client");
    const env = await import("gatehouse-gateway/client/env");
    assert.equal(full.GatewayClientError, env.GatewayClientError);
    assert.equal(full.GatewayClient, env.GatewayClient);
    assert.equal(
      fileURLToPath(import.meta.resolve("gatehouse-gateway/client/env")),
      join(BUNDLE_DIR, "env.js"),
    );
  });

  it("is all a sub-agent's import of gatehouse-gateway/client/env loads of ours, and no package", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bundle-import-"));
    const log = join(dir, "modules.log");
    try {
      const code = `await import(${JSON.stringify(import.meta.resolve("gatehouse-gateway/client/env"))});`;
      await new Promise<void>((resolve, reject) =>
        execFile(
          process.execPath,
          ["--import", MODULE_LOG, "--input-type=module", "-e", code],
          { env: { ...process.env, GATEHOUSE_TEST_MODULE_LOG: log } },
          (err) => (err ? reject(err) : resolve()),
        ),
      );
      const ours = readFileSync(log, "utf8")
        .split("\n")
        .filter((u) => u.startsWith("file:") && !u.includes("/dist/test/"))
        .map((u) => fileURLToPath(u));
      assert.ok(ours.length > 0, "the log saw the import");
      const outside = ours.filter((p) => !p.startsWith(BUNDLE_DIR + "/"));
      assert.deepEqual(outside, [], "only files of dist/src/bundle load");
      assert.ok(
        ours.length <= 2,
        `the entry and its shared chunk, not ${ours.length} files: ${ours.join(", ")}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("calls back with a runtime token without loading node:crypto (bench/README: a call-back without it)", async (t) => {
    const gw = await FakeGateway.start();
    t.after(() => gw.stop());
    const code = `import { connectFromEnv } from ${JSON.stringify(import.meta.resolve("gatehouse-gateway/client/env"))};
const client = await connectFromEnv();
const res = await client.request("health");
await client.close();
process.stdout.write(JSON.stringify({ health: res, crypto: process.moduleLoadList.filter((m) => m === "NativeModule crypto" || m.startsWith("NativeModule internal/crypto/")) }));`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ["--input-type=module", "-e", code],
        { env: { ...process.env, GATEHOUSE_GATEWAY_URL: gw.url, GATEHOUSE_RUNTIME_TOKEN: "runtime-token" } },
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      ),
    );
    assert.deepEqual(JSON.parse(out), { health: { method: "health", params: null }, crypto: [] });
    assert.equal(gw.connects[0]!.params.auth?.agentRuntimeIdentityToken, "runtime-token");
  });

  it("reads the package version and, when a reconnect is refused (PAIRING_REQUIRED pauses), the gateway's error table from the bundle's directory", async (t) => {
    const { GatewayClient } = await import("gatehouse-gateway/client");
    const gw = await FakeGateway.start({
      onConnect: (r) =>
        r.index === 1
          ? { hello: helloOk() }
          : {
              error: new GatewayError("PAIRING_REQUIRED", {
                message: "pairing required",
                details: { reason: "scope-upgrade", requestId: "req-9" },
              }),
            },
    });
    const client = new GatewayClient({
      url: gw.url,
      auth: { token: "t" },
      reconnect: { initialDelayMs: 20, maxDelayMs: 40 },
    });
    client.on("error", () => {});
    t.after(async () => {
      await client.close();
      await gw.stop();
    });
    await client.connect();
    // Read from the bundle's directory, the package's own version (once "0.0.0": the bundle sits a
    // level deeper than tsc's version.js, and both of its paths missed the package root).
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    assert.equal(gw.connects[0]!.params.client.version, pkg.version);
    const paused = nextEvent(client, "paused");
    gw.closeAll(1012);
    await paused;
    assert.equal(client.state, "paused");
  });
});
