/**
 * What a sub-agent pays to call back is mostly what `gatehouse/client` loads: these checks fail
 * when the client (or anything it imports) brings back Node's HTTP, TLS or zlib stacks, or `ws`,
 * on the ws:// path. Module lists, not timings: the same on a loaded machine as on an idle one.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { FakeGateway } from "./fake-gateway.js";

const CLIENT = pathToFileURL(join(import.meta.dirname, "..", "..", "src", "client", "index.js")).href;

/** Runs `body` (ES module code, `client` in scope) in a fresh node; resolves with the modules it loaded. */
async function loadedBy(body: string): Promise<{ builtins: string[]; packages: string[] }> {
  const code = `const client = await import(${JSON.stringify(CLIENT)});
${body}
const { createRequire } = process.getBuiltinModule("node:module");
const cache = Object.keys(createRequire(import.meta.url)("node:module")._cache);
const builtins = process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")).map((m) => m.slice(13));
console.log(JSON.stringify({ builtins, packages: cache.filter((p) => p.includes("node_modules")) }));`;
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ["--input-type=module", "-e", code], (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );
  return JSON.parse(out) as { builtins: string[]; packages: string[] };
}

const HEAVY = ["http", "https", "tls", "_tls_wrap", "zlib", "_http_client"];

test("importing gatehouse/client loads no HTTP, TLS or zlib module and no package", async () => {
  const { builtins, packages } = await loadedBy("");
  assert.deepEqual(
    builtins.filter((m) => HEAVY.includes(m)),
    [],
  );
  assert.deepEqual(packages, []);
});

test("a ws:// call-back (connect, request, close) loads no TLS module either", async (t) => {
  const gw = await FakeGateway.start({ onRequest: () => ({ payload: { ok: true } }) });
  t.after(() => gw.stop());
  const { builtins, packages } = await loadedBy(`
const c = new client.GatewayClient({ url: ${JSON.stringify(gw.url)} });
await c.connect();
if ((await c.request("health")).ok !== true) throw new Error("no health");
await c.close();`);
  assert.deepEqual(
    builtins.filter((m) => HEAVY.includes(m)),
    [],
  );
  assert.deepEqual(packages, []);
});
