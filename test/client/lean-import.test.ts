/**
 * What a sub-agent pays to call back is mostly what `gatehouse/client` loads: these checks fail
 * when the client (or anything it imports) brings back Node's HTTP, TLS or zlib stacks, or `ws`,
 * on the ws:// path; or the gateway's check code, the schemas or TypeBox; or takes a built-in by an
 * ES import. Module lists, not timings: the same on a loaded machine as on an idle one.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { FakeGateway } from "./fake-gateway.js";

const CLIENT = pathToFileURL(join(import.meta.dirname, "..", "..", "src", "client", "index.js")).href;
const CLIENT_ENV = pathToFileURL(join(import.meta.dirname, "..", "..", "src", "client", "env.js")).href;
const MODULE_LOG = fileURLToPath(new URL("../helpers/module-log.js", import.meta.url));

interface Loaded {
  builtins: string[];
  packages: string[];
  /** Every ES module the client's code loaded (URLs; Node's built-ins as `node:…`). */
  modules: string[];
}

/**
 * Runs `body` (ES module code, `client` in scope: the entry `entry`) in a fresh node; resolves with
 * the modules it loaded.
 */
async function loadedBy(body: string, entry = CLIENT): Promise<Loaded> {
  const code = `const client = await import(${JSON.stringify(entry)});
${body}
const { createRequire } = process.getBuiltinModule("node:module");
const cache = Object.keys(createRequire(import.meta.url)("node:module")._cache);
const builtins = process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")).map((m) => m.slice(13));
console.log(JSON.stringify({ builtins, packages: cache.filter((p) => p.includes("node_modules")) }));`;
  const dir = mkdtempSync(join(tmpdir(), "lean-import-"));
  const log = join(dir, "modules.log");
  try {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ["--import", MODULE_LOG, "--input-type=module", "-e", code],
        { env: { ...process.env, GATEHOUSE_TEST_MODULE_LOG: log } },
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      ),
    );
    const modules = readFileSync(log, "utf8").split("\n").filter(Boolean);
    return { ...(JSON.parse(out) as Omit<Loaded, "modules">), modules };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The client's own frame checks: the only check code it may load. */
const CLIENT_CHECK_CODE = "/src/protocol/client-check-code.js";
/**
 * What only the gateway (or a failing frame's wording, or a refused connect) needs: every schema's
 * check code, the schemas, TypeBox, the error table.
 */
const GATEWAY_CHECKS = [
  "/src/protocol/errors.js",
  "/src/protocol/check-code.js",
  "/src/protocol/checks.js",
  "/src/protocol/validate.js",
  "/src/protocol/check-schemas.js",
  "/src/protocol/compile-validator.js",
  "@sinclair/typebox",
];

/** Fails when `modules` holds the gateway's checks or an ES import of a built-in. */
function assertLeanChecks(modules: readonly string[]): void {
  assert.ok(
    modules.some((m) => m.endsWith(CLIENT_CHECK_CODE)),
    `the log holds the client's modules: ${modules.join(" ")}`,
  );
  assert.deepEqual(
    modules.filter((m) => GATEWAY_CHECKS.some((g) => m.includes(g))),
    [],
    "the client loaded check code it does not run",
  );
  // The CommonJS cache misses ES-module packages; the module log sees every one.
  assert.deepEqual(
    modules.filter((m) => m.includes("/node_modules/")),
    [],
    "the client loaded a package",
  );
  // An ES import of a built-in evaluates all its lazy parts (node:module: ~3 M instructions);
  // the client takes them with process.getBuiltinModule.
  assert.deepEqual(
    modules.filter((m) => m.startsWith("node:")),
    [],
  );
}

const HEAVY = ["http", "https", "tls", "_tls_wrap", "zlib", "_http_client"];

test("importing gatehouse/client loads no HTTP, TLS or zlib module and no package", async () => {
  const { builtins, packages, modules } = await loadedBy("");
  assert.deepEqual(
    builtins.filter((m) => HEAVY.includes(m)),
    [],
  );
  assert.deepEqual(packages, []);
  assertLeanChecks(modules);
});

test("a ws:// call-back (connect, request, close) loads no TLS module either", async (t) => {
  const gw = await FakeGateway.start({ onRequest: () => ({ payload: { ok: true } }) });
  t.after(() => gw.stop());
  const { builtins, packages, modules } = await loadedBy(`
const c = new client.GatewayClient({ url: ${JSON.stringify(gw.url)} });
await c.connect();
if ((await c.request("health")).ok !== true) throw new Error("no health");
await c.close();`);
  assert.deepEqual(
    builtins.filter((m) => HEAVY.includes(m)),
    [],
  );
  assert.deepEqual(packages, []);
  assertLeanChecks(modules);
});

/**
 * What `gatehouse-gateway/client` exports for people and a runtime-token child never runs: device
 * identities and their files, file token stores' writer, known gateways.
 */
const NOT_FOR_CALL_BACKS = [
  "/src/client/identity.js",
  "/src/client/known-gateways.js",
  "/src/identity/index.js",
  "/src/identity/file-store.js",
  "/src/identity/errors.js",
];

test("a call-back through gatehouse-gateway/client/env loads no identity file, known-gateway or package code", async (t) => {
  const gw = await FakeGateway.start({ onRequest: () => ({ payload: { ok: true } }) });
  t.after(() => gw.stop());
  const { builtins, packages, modules } = await loadedBy(
    `
const c = await client.connectFromEnv({ env: { GATEHOUSE_GATEWAY_URL: ${JSON.stringify(gw.url)}, GATEHOUSE_RUNTIME_TOKEN: "rt" } });
if ((await c.request("health")).ok !== true) throw new Error("no health");
await c.close();`,
    CLIENT_ENV,
  );
  assert.deepEqual(
    builtins.filter((m) => HEAVY.includes(m)),
    [],
  );
  assert.deepEqual(packages, []);
  assertLeanChecks(modules);
  assert.deepEqual(
    modules.filter((m) => NOT_FOR_CALL_BACKS.some((n) => m.endsWith(n))),
    [],
    "the lean entry loaded what only gatehouse-gateway/client's other exports need",
  );
});
