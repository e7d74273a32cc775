/**
 * `gatehouse doctor` as a user runs it, on state dirs seeded with one problem each: it finds them
 * with stable ids, `--fix` repairs exactly the safe ones and says what it changed, a corrupt store
 * is reported and left byte-for-byte alone, and the live checks run against a gateway process.
 */
import type { GatewayRole } from "../../src/protocol/client-info.js";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { DoctorReport } from "../../src/cli/commands/doctor.js";
import { checkRevokedSessions } from "../../src/doctor/gateway.js";
import { CHECKS } from "../../src/doctor/index.js";
import { proxyRangeProblem } from "../../src/doctor/network.js";
import { loadOrCreateIdentity } from "../../src/identity/file-store.js";
import { generateIdentity } from "../../src/identity/keys.js";
import { approveDevice, ensureOwner, openStore } from "../../src/store/index.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { freePort, runCli, spawnGateway, type CliResult } from "../helpers/gateway-process.js";

const sandbox = createCliSandbox();
const env = sandbox.env;
after(() => sandbox.cleanup());

const STRONG = "doctor-test-token-0123456789abcdefghijklmn";
const mode = (p: string) => statSync(p).mode & 0o777;

function parse(r: CliResult): DoctorReport {
  try {
    return JSON.parse(r.stdout) as DoctorReport;
  } catch {
    assert.fail(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

const doctor = (dir: string, ...args: string[]) => runCli(["doctor", "--state-dir", dir, ...args], env);
const ids = (r: DoctorReport) => r.findings.map((f) => f.id);
const find = (r: DoctorReport, id: string, subject?: string) =>
  r.findings.find((f) => f.id === id && (subject === undefined || f.subject === subject));

/** A state dir with a store holding an owner, the given devices, and an expired pending request. */
function seedStore(dir: string): string {
  const dbPath = join(dir, "state", "gatehouse.sqlite");
  const owner = loadOrCreateIdentity(join(dir, "identity", "device.json"));
  const store = openStore(dbPath);
  try {
    const now = Date.now();
    ensureOwner(store, owner, now);
    const add = (scopes: string[], roles: GatewayRole[], approvedVia: "imported" | "approved") => {
      const id = generateIdentity();
      approveDevice(store, {
        deviceId: id.deviceId,
        publicKey: id.publicKey,
        roles,
        scopes,
        approvedVia,
        nowMs: now,
      });
      return id.deviceId;
    };
    add(["operator.admin", "operator.approvals", "operator.pairing"], ["operator"], "imported");
    add(["operator.read"], [], "approved");
    const stale = generateIdentity();
    store.pending.upsertForDevice(
      {
        deviceId: stale.deviceId,
        publicKey: stale.publicKey,
        reason: "not-paired",
        roles: ["operator"],
        scopes: ["operator.read"],
        displayName: null,
        clientId: "cli",
        clientMode: "cli",
        platform: null,
        deviceFamily: null,
        remoteIp: "192.168.1.5",
        isRepair: false,
      },
      now - 3 * 86_400_000,
      600_000,
      { total: 100, perIp: 100 },
    );
  } finally {
    store.close();
  }
  return dbPath;
}

describe("gatehouse doctor: seeded problems", () => {
  it("finds each problem with a stable id, and --fix repairs only the safe ones and says so", async () => {
    const dir = sandbox.stateDir({
      gateway: {
        auth: { token: "short-token" },
        trustedProxies: ["10.0.0.0/8", "172.17.0.0/16", "127.0.0.1"],
        controlUi: { allowedOrigins: ["*"] },
      },
    });
    const dbPath = seedStore(dir);
    const configPath = join(dir, "gatehouse.json");
    chmodSync(dir, 0o755);
    chmodSync(configPath, 0o644);
    chmodSync(dbPath, 0o644);

    const before = parse(await doctor(dir, "--json"));
    assert.equal(before.ok, false);
    assert.deepEqual(
      before.checks.map((c) => c.id),
      CHECKS.map((c) => c.id),
      "every check is listed, in a stable order",
    );
    assert.equal(find(before, "state-dir-permissions", dir)?.fixable, true);
    assert.equal(find(before, "file-permissions", configPath)?.severity, "error");
    assert.equal(find(before, "file-permissions", dbPath)?.fixable, true);
    assert.equal(find(before, "auth-token-weak")?.severity, "warn", "weak, but the gateway is loopback-only");
    assert.equal(find(before, "auth-token-weak")?.fixable, false);
    assert.equal(find(before, "trusted-proxies-broad", "10.0.0.0/8")?.severity, "error");
    assert.equal(find(before, "trusted-proxies-broad", "172.17.0.0/16")?.severity, "warn");
    assert.equal(find(before, "trusted-proxies-broad", "127.0.0.1"), undefined);
    assert.equal(find(before, "origins-wildcard")?.severity, "error");
    assert.equal(find(before, "pending-expired")?.fixable, true);
    assert.equal(find(before, "device-legacy-scopes")?.severity, "info");
    assert.match(find(before, "device-legacy-scopes")!.message, /still works/);
    assert.equal(find(before, "device-no-roles")?.severity, "warn");
    assert.equal(find(before, "device-imported")?.severity, "info");
    assert.ok(ids(before).includes("gateway-not-running"));
    assert.equal(before.checks.find((c) => c.id === "revoked-token-sessions")?.status, "skipped");
    for (const f of before.findings) assert.ok(f.fix.length > 0, `${f.id} has a fix`);
    assert.ok(!JSON.stringify(before).includes("short-token"), "the token never appears");
    assert.equal(mode(configPath), 0o644, "without --fix nothing changes");

    const text = await doctor(dir);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^ERROR origins-wildcard: /m);
    assert.match(text.stdout, /^ {7}fix: chmod 600 .*gatehouse\.json \[gatehouse doctor --fix does this\]$/m);

    const fixedRun = await doctor(dir, "--fix", "--json");
    assert.equal(fixedRun.code, 1, "errors that need a human remain");
    const fixed = parse(fixedRun);
    const actions = fixed.fixed.map((f) => `${f.id}: ${f.action}`);
    assert.ok(
      actions.some((a) => a === `state-dir-permissions: chmod 700 ${dir}`),
      actions.join("\n"),
    );
    assert.ok(
      actions.some((a) => a === `file-permissions: chmod 600 ${configPath}`),
      actions.join("\n"),
    );
    assert.ok(
      actions.some((a) => a.startsWith(`file-permissions: chmod 600 ${dbPath}`)),
      actions.join("\n"),
    );
    assert.ok(
      actions.some((a) => /^pending-expired: deleted 1 expired pending request /.test(a)),
      actions.join("\n"),
    );
    assert.ok(fixed.fixed.every((f) => f.ok));
    assert.equal(mode(dir), 0o700);
    assert.equal(mode(configPath), 0o600);
    assert.equal(mode(dbPath), 0o600);
    for (const gone of ["state-dir-permissions", "file-permissions", "pending-expired"]) {
      assert.ok(!ids(fixed).includes(gone), `${gone} is fixed`);
    }
    for (const kept of ["auth-token-weak", "trusted-proxies-broad", "origins-wildcard", "device-no-roles"]) {
      assert.ok(ids(fixed).includes(kept), `${kept} is left to a human`);
    }
    assert.equal(
      JSON.parse(readFileSync(configPath, "utf8")).gateway.auth.token,
      "short-token",
      "a set token is never replaced",
    );
    const store = openStore(dbPath, { readonly: true });
    try {
      assert.deepEqual(store.pending.listExpired(Date.now()), []);
    } finally {
      store.close();
    }
  });

  it("a missing token in token mode is generated into the config file by --fix, then all is well", async () => {
    const dir = sandbox.stateDir({ gateway: { auth: { mode: "token" } } });
    const configPath = join(dir, "gatehouse.json");
    chmodSync(configPath, 0o600);
    const before = parse(await doctor(dir, "--json"));
    assert.equal(find(before, "auth-token-missing")?.fixable, true);
    assert.equal(before.ok, true, "a missing token is a warning: the gateway generates one at start");

    const fixed = parse(await doctor(dir, "--fix", "--json"));
    assert.ok(
      fixed.fixed.some(
        (f) => f.id === "auth-token-missing" && /generated a gateway token into/.test(f.action),
      ),
    );
    const token = JSON.parse(readFileSync(configPath, "utf8")).gateway.auth.token as string;
    assert.ok(token.length >= 32);
    assert.equal(mode(configPath), 0o600);
    assert.ok(!ids(fixed).some((id) => id.startsWith("auth-token")));
    assert.ok(!JSON.stringify(fixed).includes(token), "the new token is not printed");

    // Set in the environment: nothing is generated into the file.
    const dir2 = sandbox.stateDir({ gateway: { auth: { mode: "token" } } });
    const r = await runCli(["doctor", "--fix", "--json", "--state-dir", dir2], {
      ...env,
      GATEHOUSE_GATEWAY_TOKEN: STRONG,
    });
    assert.ok(!parse(r).fixed.some((f) => f.id === "auth-token-missing"));
    assert.equal(
      JSON.parse(readFileSync(join(dir2, "gatehouse.json"), "utf8")).gateway.auth.token,
      undefined,
    );
  });

  it("a corrupt store is reported and left untouched, even by --fix", async () => {
    const dir = sandbox.stateDir({ gateway: { auth: { token: STRONG } } });
    chmodSync(join(dir, "gatehouse.json"), 0o600);
    mkdirSync(join(dir, "state"), { mode: 0o700 });
    const dbPath = join(dir, "state", "gatehouse.sqlite");
    const garbage = Buffer.from("this is not a database ".repeat(300));
    writeFileSync(dbPath, garbage, { mode: 0o644 });
    chmodSync(dbPath, 0o644);

    const r = await doctor(dir, "--fix", "--json");
    assert.equal(r.code, 1);
    const report = parse(r);
    assert.equal(find(report, "store-corrupt")?.severity, "error");
    assert.match(find(report, "store-corrupt")!.fix, /leaves a damaged store exactly as it is/);
    const perms = find(report, "file-permissions", dbPath);
    assert.equal(perms?.fixable, false, "not even its mode is changed");
    assert.deepEqual(report.fixed, []);
    assert.deepEqual(readFileSync(dbPath), garbage);
    assert.equal(mode(dbPath), 0o644);
    assert.equal(report.checks.find((c) => c.id === "devices")?.status, "skipped");
  });

  it("an invalid config file is reported and never rewritten", async () => {
    const dir = sandbox.stateDir();
    const configPath = join(dir, "gatehouse.json");
    writeFileSync(configPath, '{"gateway": {"port": "eighty"}}', { mode: 0o644 });
    const r = await doctor(dir, "--fix", "--json");
    assert.equal(r.code, 1);
    const report = parse(r);
    assert.equal(find(report, "config-invalid")?.severity, "error");
    assert.match(find(report, "config-invalid")!.message, /gateway\.port/);
    assert.equal(find(report, "file-permissions", configPath)?.fixable, false);
    assert.equal(readFileSync(configPath, "utf8"), '{"gateway": {"port": "eighty"}}');
    assert.equal(mode(configPath), 0o644);
  });
});

describe("gatehouse doctor: exit status", () => {
  it("is what its help says: 0 with only warnings and notes, 1 with an error finding, 2 for bad usage", async () => {
    const help = await runCli(["doctor", "--help"], env);
    assert.equal(help.code, 0);
    assert.match(
      help.stdout,
      /Exit status: 0 when no error-severity finding remains \(warnings and notes do not count\),/,
    );
    assert.match(help.stdout, /1 when one does, 2 for bad usage/);

    const warnOnly = sandbox.stateDir({ gateway: { auth: { token: STRONG }, sandbox: { mode: "none" } } });
    chmodSync(join(warnOnly, "gatehouse.json"), 0o600);
    const warned = await doctor(warnOnly, "--json");
    const report = parse(warned);
    assert.ok(report.summary.warn >= 1 && report.summary.error === 0, JSON.stringify(report.summary));
    assert.equal(warned.code, 0, "warnings do not fail doctor");

    const broken = sandbox.stateDir();
    writeFileSync(join(broken, "gatehouse.json"), "{not json", { mode: 0o600 });
    assert.equal((await doctor(broken)).code, 1);

    const usage = await doctor(warnOnly, "--timeout", "soon");
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^error INVALID_FLAG: --timeout: must be a positive number of milliseconds/);
    assert.equal(usage.stdout, "", "no report for a command that did not run");
    const unknown = await doctor(warnOnly, "--fixx");
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--fixx'/);
  });
});

describe("gatehouse doctor: the live gateway", () => {
  it("a clean state dir with a running gateway passes every check and exits 0", async () => {
    const port = await freePort();
    const dir = sandbox.stateDir({ gateway: { port, auth: { token: STRONG } } });
    chmodSync(join(dir, "gatehouse.json"), 0o600);
    const gw = await spawnGateway(["--state-dir", dir], env);
    try {
      const r = await doctor(dir, "--json");
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const report = parse(r);
      assert.equal(report.ok, true);
      assert.deepEqual(
        report.findings.filter((f) => f.severity !== "info"),
        [],
      );
      assert.equal(report.checks.find((c) => c.id === "gateway")?.status, "pass");
      assert.equal(report.checks.find((c) => c.id === "revoked-token-sessions")?.status, "pass");
      assert.ok(!ids(report).includes("gateway-not-running"));
    } finally {
      await gw.stop();
    }
  });

  it("a session left open on a revoked token is found (pure check over status and device.pair.list)", () => {
    const findings = checkRevokedSessions(
      [
        { connId: "c1", role: "operator", client: "cli/cli", deviceId: "a".repeat(64) },
        { connId: "c2", role: "node", client: "node-host/node", deviceId: "a".repeat(64) },
        { connId: "c3", role: "operator", client: "cli/cli", deviceId: null },
      ],
      [
        { deviceId: "a".repeat(64), role: "operator", revokedAtMs: 5 },
        { deviceId: "a".repeat(64), role: "node", revokedAtMs: null },
      ],
    );
    assert.deepEqual(
      findings.map((f) => [f.id, f.severity, f.subject]),
      [["revoked-token-session", "warn", "a".repeat(64)]],
    );
    assert.match(findings[0]!.fix, /gatehouse devices revoke --device a+ --role operator/);
  });

  it("trustedProxies breadth (C04): exact proxies pass, /24 passes, wider warns, private blocks are errors", () => {
    assert.equal(proxyRangeProblem("127.0.0.1"), null);
    assert.equal(proxyRangeProblem("172.17.0.0/24"), null);
    assert.equal(proxyRangeProblem("fd00::/64"), null);
    assert.equal(proxyRangeProblem("172.17.0.0/16")?.severity, "warn");
    assert.equal(proxyRangeProblem("100.64.0.0/10")?.severity, "warn");
    assert.equal(proxyRangeProblem("fd00::/48")?.severity, "warn");
    for (const wide of ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "0.0.0.0/0", "fc00::/7", "::/0"]) {
      assert.equal(proxyRangeProblem(wide)?.severity, "error", wide);
    }
  });
});
