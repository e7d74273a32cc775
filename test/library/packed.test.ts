/**
 * The "Done when" of Gatehouse as a library: `npm pack`, install the tarball into a project of its
 * own, and use every export from there in real Node processes — a gateway with a custom method,
 * a client allowed and refused by scope, a new identity paired by the owner, a clean close — and
 * run every documented example against the installed types and code.
 *
 * The consumer project is kept under node_modules/.cache between runs (keyed by the dependency
 * set, Node version and platform), so only the first run installs and compiles better-sqlite3;
 * later runs reinstall just the tarball. npm needs the registry (or its cache) for dependencies.
 */
import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import ts from "typescript";
import { documentedExports, packageJson, ROOT } from "./package-entries.js";

const pkg = packageJson();
const scratch = mkdtempSync(join(tmpdir(), "gatehouse-packed-"));
const key = createHash("sha256")
  .update(JSON.stringify([pkg.dependencies, process.version, process.platform, process.arch]))
  .digest("hex")
  .slice(0, 16);
const consumer = join(ROOT, "node_modules", ".cache", "gatehouse-packed-test", key);
const installed = join(consumer, "node_modules", pkg.name);

/**
 * A child's environment without the caller's gateway settings, with a HOME and a TMPDIR of its own:
 * the documented examples make temporary state dirs as a user would, and this file removes them.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: join(scratch, "home"),
    TMPDIR: join(scratch, "tmp"),
  };
  for (const k of Object.keys(env)) if (k.startsWith("GATEHOUSE_")) delete env[k];
  return env;
}

function npm(args: string[], cwd: string): string {
  const res = spawnSync("npm", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, npm_config_fund: "false" },
  });
  assert.equal(
    res.status,
    0,
    `npm ${args.join(" ")} failed (${res.error?.message ?? res.status}):\n${res.stderr}`,
  );
  return res.stdout;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node file` in the consumer project; a process that does not end by itself is killed. */
function node(file: string, args: string[] = []): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file, ...args], { cwd: consumer, env: cleanEnv() });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    // A hang detector, not a timing assertion: an example that never exits is a failure.
    const hang = setTimeout(() => {
      stderr += "\n[killed: did not exit within 120 s]";
      child.kill("SIGKILL");
    }, 120_000);
    // "close", not "exit": the exit can come before the last of stdout has been read.
    child.once("close", (code) => {
      clearTimeout(hang);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Puts the checkout's own installed copy of the native addon `name` into a consumer that has none
 * (a fresh clone: `npm ci` emptied node_modules/.cache). Offline, npm compiles better-sqlite3 from
 * source, a minute of CPU that `npm ci` had just spent on the same version for the same Node; npm
 * keeps an installed dependency that satisfies the package's range (another version is replaced
 * and compiled as before) and still resolves every other dependency from the tarball's
 * package.json, and prunes this one if the package stops depending on it.
 */
function seedNativeAddon(name: string): void {
  const from = join(ROOT, "node_modules", name);
  const to = join(consumer, "node_modules", name);
  if (existsSync(to) || !existsSync(from)) return;
  // A copy, not hard links: were npm to rebuild it in place, the checkout's addon must not change.
  cpSync(from, to, { recursive: true });
}

before(() => {
  mkdirSync(join(scratch, "home"), { recursive: true });
  mkdirSync(join(scratch, "tmp"), { recursive: true });
  npm(["pack", "--ignore-scripts", "--pack-destination", scratch], ROOT);
  const tarball = join(scratch, `${pkg.name}-${pkg.version}.tgz`);
  assert.ok(existsSync(tarball), "npm pack wrote the tarball");
  mkdirSync(consumer, { recursive: true });
  writeFileSync(
    join(consumer, "package.json"),
    JSON.stringify({ name: "gatehouse-consumer", private: true, type: "module" }, null, 2),
  );
  writeFileSync(join(consumer, "gatehouse-gateway.tgz"), readFileSync(tarball));
  // Only the package itself is replaced; dependencies installed by an earlier run stay.
  rmSync(installed, { recursive: true, force: true });
  rmSync(join(consumer, "package-lock.json"), { force: true });
  seedNativeAddon("better-sqlite3");
  npm(["install", "./gatehouse-gateway.tgz", "--no-audit", "--no-fund", "--prefer-offline"], consumer);
});

after(() => rmSync(scratch, { recursive: true, force: true }));

describe("the packed package, installed into a project of its own", () => {
  it("installs this build with only the shipped files, and the gatehouse command runs from the project", () => {
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as { name: string };
    assert.equal(manifest.name, "gatehouse-gateway");
    assert.equal(
      readFileSync(join(installed, "dist", "src", "index.js"), "utf8"),
      readFileSync(join(ROOT, "dist", "src", "index.js"), "utf8"),
      "the tarball holds this checkout's build",
    );
    for (const absent of ["test", "dist/test", "src/index.ts", "tsconfig.json", "dist/src/index.js.map"]) {
      assert.equal(existsSync(join(installed, absent)), false, `${absent} is not shipped`);
    }
    assert.ok(existsSync(join(installed, "src", "ui", "static", "index.html")), "the Control UI is shipped");
    const res = spawnSync("npx", ["--no-install", "gatehouse", "--version"], {
      cwd: consumer,
      encoding: "utf8",
      env: cleanEnv(),
    });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout.trim(), pkg.version);
  });

  it("embeds a gateway with a custom method; the client is allowed with the scope, refused without; a new identity pairs; close is clean", async () => {
    const script = join(consumer, "scenario.mjs");
    writeFileSync(script, SCENARIO);
    const stateDir = join(scratch, "state");
    const deviceDir = join(scratch, "device");
    const run = await node(script, [stateDir, deviceDir, join(scratch, "other-state")]);
    assert.equal(run.code, 0, `the consumer failed or did not exit by itself:\n${run.stderr}`);
    const out = JSON.parse(run.stdout) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

    assert.equal(out.identity.derived, true, "deviceIdFromPublicKey agrees with the identity's id");
    assert.deepEqual(out.identity.fileMode, "600", "the private key is written owner-only");
    assert.deepEqual(out.pending, {
      code: "HANDSHAKE_REJECTED",
      detailCode: "PAIRING_REQUIRED",
      requestId: out.requested.requestId,
    });
    assert.equal(out.requested.deviceId, out.identity.deviceId);
    assert.deepEqual(out.requested.scopes, ["operator.write"]);
    assert.deepEqual(out.approved, { requestId: out.requested.requestId, decision: "approved" });

    assert.deepEqual(out.hello, {
      valid: true,
      protocol: 4,
      scopes: ["operator.write"],
      advertises: true,
      gotDeviceToken: true,
    });
    assert.deepEqual(out.allowed, { count: 3, caller: out.identity.deviceId });
    assert.deepEqual(out.refused, {
      code: "REQUEST_FAILED",
      wireCode: "FORBIDDEN",
      detailCode: "MISSING_SCOPE",
      message: "missing scope: operator.write",
    });
    assert.deepEqual(out.invalid, { detailCode: "INVALID_PARAMS", message: "items: an array is required" });
    assert.deepEqual(out.shadow, { startError: true, code: "METHOD_REFUSED", subject: "device.pair.list" });
    assert.deepEqual(out.close, { closed: true, samePromise: true, endpointGone: true });
    assert.deepEqual(out.events, [
      ["pairing.requested", out.requested.requestId],
      ["session.open", out.ownerDeviceId],
      ["pairing.resolved", out.requested.requestId],
      ["session.open", out.identity.deviceId],
      ["session.open", out.ownerDeviceId],
      ["session.close", out.identity.deviceId],
      ["session.close", out.ownerDeviceId],
      ["session.close", out.ownerDeviceId],
    ]);
    assert.deepEqual(out.restart, { authMethod: "device-token", health: true, sameOwner: true });
  });

  it("runs every documented example: each type-checks against the installed types and exits cleanly", async () => {
    const examples = documentedExports(pkg).flatMap((d) =>
      d.examples.map((code, i) => ({ id: `${d.from}#${d.name}${i ? `-${i}` : ""}`, code })),
    );
    assert.ok(examples.length >= 60, `examples found: ${examples.length}`);
    const dir = join(consumer, "examples");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    const files = examples.map((e, i) => {
      const file = join(dir, `example-${String(i).padStart(3, "0")}.ts`);
      writeFileSync(file, `// ${e.id}\n${e.code}\nexport {};\n`);
      return { ...e, file };
    });

    const options: ts.CompilerOptions = {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      types: ["node"],
      typeRoots: [join(ROOT, "node_modules", "@types")],
    };
    const program = ts.createProgram(
      files.map((f) => f.file),
      options,
    );
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => !d.file || d.file.fileName.startsWith(dir))
      .map((d) => {
        const where = d.file ? files.find((f) => f.file === d.file!.fileName)?.id : "";
        return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
      });
    assert.deepEqual(problems, [], "the examples type-check against the installed declarations");

    const failures: string[] = [];
    const queue = [...files];
    const worker = async () => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        const js = ts.transpileModule(readFileSync(f.file, "utf8"), {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
        }).outputText;
        const mjs = f.file.replace(/\.ts$/, ".mjs");
        writeFileSync(mjs, js);
        const run = await node(mjs);
        if (run.code !== 0 || run.stderr.trim() !== "") {
          failures.push(`${f.id}: exit ${run.code}\n${run.stderr}`);
          continue;
        }
        const missing = unmatchedClaims(f.code, run.stdout);
        if (missing.length)
          failures.push(`${f.id}: printed\n${run.stdout}\nbut claims ${missing.join(" | ")}`);
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    assert.deepEqual(failures, []);
  });
});

/**
 * The `console.log(...); // printed` claims of an example that its output does not bear out, in
 * order; `<...>` and `...` in a claim match anything.
 */
function unmatchedClaims(code: string, stdout: string): string[] {
  const claims = [...code.matchAll(/console\.log\(.*\);? \/\/ (.+)$/gm)].map((m) => m[1]!.trim());
  const lines = stdout.split("\n");
  let at = 0;
  const missing: string[] = [];
  for (const claim of claims) {
    const pattern = new RegExp(
      `^${claim
        .split(/<[^>]*>|\.\.\./)
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*")}$`,
    );
    const found = lines.findIndex((l, i) => i >= at && pattern.test(l.trim()));
    if (found < 0) missing.push(claim);
    else at = found + 1;
  }
  return missing;
}

/** The consumer's program: every export of every entry point in one real use. */
const SCENARIO = `
import { statSync } from "node:fs";
import { join } from "node:path";
import { createGateway, GatewayStartError, GATEWAY_EVENT_NAMES, MethodError } from "gatehouse-gateway";
import {
  deviceIdFromPublicKey,
  FileDeviceTokenStore,
  GatewayClient,
  GatewayClientError,
  loadDeviceIdentity,
  loadOrCreateDeviceIdentity,
} from "gatehouse-gateway/client";
import { OPERATOR_SCOPES, PROTOCOL_VERSION, validateHelloOk } from "gatehouse-gateway/protocol";

const [stateDir, deviceDir, otherStateDir] = process.argv.slice(2);
const TOKEN = "consumer-shared-secret-0123456789";
const out = {};
const events = [];
const methods = {
  "inventory.count": {
    role: "operator",
    scope: OPERATOR_SCOPES.write,
    handler(params, caller) {
      if (!Array.isArray(params?.items)) throw new MethodError("INVALID_PARAMS", "items: an array is required");
      return { count: params.items.length, caller: caller.deviceId };
    },
  },
};
const gateway = await createGateway({
  stateDir,
  config: { gateway: { port: 0, auth: { mode: "token", token: TOKEN }, pairing: { autoApproveLocal: false } } },
  methods,
});
out.ownerDeviceId = gateway.ownerDeviceId;
for (const name of GATEWAY_EVENT_NAMES) {
  gateway.on(name, (p) => {
    events.push([name, name.startsWith("pairing") ? p.requestId : p.deviceId]);
    if (name === "pairing.requested") out.requested = { requestId: p.requestId, deviceId: p.deviceId, scopes: p.scopes };
    if (name === "pairing.resolved") out.approved = { requestId: p.requestId, decision: p.decision };
  });
}
const tick = () => new Promise((r) => setImmediate(r));

const identity = loadOrCreateDeviceIdentity(deviceDir);
out.identity = {
  deviceId: identity.deviceId,
  derived: deviceIdFromPublicKey(identity.publicKey) === identity.deviceId,
  fileMode: (statSync(join(deviceDir, "device.json")).mode & 0o777).toString(8),
};
const tokens = new FileDeviceTokenStore(join(deviceDir, "device-auth.json"));
const device = (url, auth) =>
  new GatewayClient({ url, identity, deviceTokenStore: tokens, auth, scopes: [OPERATOR_SCOPES.write] });

const first = device(gateway.url, { token: TOKEN });
try {
  await first.connect();
} catch (err) {
  if (!(err instanceof GatewayClientError)) throw err;
  out.pending = { code: err.code, detailCode: err.detailCode, requestId: err.requestId };
}
await first.close();
await tick();

const ownerIdentity = loadDeviceIdentity(join(stateDir, "identity"));
const owner = new GatewayClient({
  url: gateway.url,
  identity: ownerIdentity,
  scopes: [OPERATOR_SCOPES.pairing, OPERATOR_SCOPES.write],
});
await owner.connect();
await tick();
await owner.request("device.pair.approve", { requestId: out.pending.requestId });
await tick();

const paired = device(gateway.url, { token: TOKEN });
const hello = await paired.connect();
await tick();
out.hello = {
  valid: validateHelloOk(hello).ok,
  protocol: hello.protocol === PROTOCOL_VERSION ? PROTOCOL_VERSION : hello.protocol,
  scopes: hello.auth.scopes,
  advertises: hello.features.methods.includes("inventory.count"),
  gotDeviceToken: tokens.get(identity.deviceId, "operator") !== undefined,
};
out.allowed = await paired.request("inventory.count", { items: [1, 2, 3] });
try {
  await paired.request("inventory.count", {});
} catch (err) {
  out.invalid = { detailCode: err.detailCode, message: err.message };
}

const reader = new GatewayClient({ url: gateway.url, identity: ownerIdentity, scopes: [OPERATOR_SCOPES.read] });
await reader.connect();
await tick();
try {
  await reader.request("inventory.count", { items: [] });
} catch (err) {
  out.refused = { code: err.code, wireCode: err.wireCode, detailCode: err.detailCode, message: err.message };
}

try {
  await createGateway({
    stateDir: otherStateDir,
    config: { gateway: { port: 0 } },
    methods: { "device.pair.list": { role: "operator", scope: null, handler: () => [] } },
  });
} catch (err) {
  out.shadow = { startError: err instanceof GatewayStartError, code: err.code, subject: err.subject };
}

await paired.close();
await tick();
await owner.close();
await tick();
await reader.close();
await tick();
const closing = gateway.close();
out.close = { closed: gateway.closed, samePromise: gateway.close() === closing };
await closing;
await tick();
let endpointGone = true;
try {
  statSync(join(stateDir, "state", "gateway-endpoint.json"));
  endpointGone = false;
} catch {}
out.close.endpointGone = endpointGone;
out.events = events;

// Same state dir again: the device is still paired and needs no shared token.
const again = await createGateway({ stateDir, config: { gateway: { port: 0 } } });
const back = device(again.url, undefined);
const helloAgain = await back.connect();
out.restart = {
  authMethod: helloAgain.auth.method,
  health: (await back.request("health")).ok === true,
  sameOwner: again.ownerDeviceId === out.ownerDeviceId,
};
await back.close();
await again.close();
process.stdout.write(JSON.stringify(out));
`;
