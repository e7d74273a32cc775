/**
 * `gatehouse explain` as a user runs it: scenario-shaped hypothetical connections (sections A–E of
 * the catalogue) decided by the policy itself, and a real requestId and device replayed from the
 * audit log of a gateway process that refused a connect.
 */
import assert from "node:assert/strict";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ExplainReport } from "../../src/cli/commands/explain.js";
import { RULE_SENTENCES, ruleSentence } from "../../src/policy/rules.js";
import { loadOrCreateIdentity } from "../../src/identity/file-store.js";
import { generateIdentity } from "../../src/identity/keys.js";
import { approveDevice, ensureOwner, openStore } from "../../src/store/index.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { freePort, runCli, spawnGateway, type CliResult } from "../helpers/gateway-process.js";

const sandbox = createCliSandbox();
const env = sandbox.env;
after(() => sandbox.cleanup());

const TOKEN = "explain-test-token-0123456789abcdefghijklm";
const LEGACY_SCOPES = ["operator.admin", "operator.approvals", "operator.pairing"];

/** A state dir with an owner, a legacy admin-only device (S08) and a device whose token was revoked. */
let dir: string;
let legacyId: string;
let revokedId: string;
before(() => {
  dir = sandbox.stateDir({
    gateway: { auth: { token: TOKEN }, controlUi: { allowedOrigins: ["https://ui.example"] } },
  });
  const owner = loadOrCreateIdentity(join(dir, "identity", "device.json"));
  const store = openStore(join(dir, "state", "gatehouse.sqlite"));
  try {
    const now = Date.now();
    ensureOwner(store, owner, now);
    const legacy = generateIdentity();
    legacyId = legacy.deviceId;
    approveDevice(store, {
      deviceId: legacy.deviceId,
      publicKey: legacy.publicKey,
      roles: ["operator"],
      scopes: LEGACY_SCOPES,
      approvedVia: "imported",
      nowMs: now,
    });
    store.tokens.issue(legacy.deviceId, "operator", LEGACY_SCOPES, now);
    const revoked = generateIdentity();
    revokedId = revoked.deviceId;
    approveDevice(store, {
      deviceId: revoked.deviceId,
      publicKey: revoked.publicKey,
      roles: ["operator"],
      scopes: ["operator.read"],
      approvedVia: "approved",
      nowMs: now,
    });
    store.tokens.issue(revoked.deviceId, "operator", ["operator.read"], now);
    store.tokens.revoke(revoked.deviceId, "operator", now);
  } finally {
    store.close();
  }
});

function parse(r: CliResult): ExplainReport {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  try {
    return JSON.parse(r.stdout) as ExplainReport;
  } catch {
    assert.fail(`not JSON: ${r.stdout}`);
  }
}

async function explain(args: string[]): Promise<ExplainReport> {
  return parse(await runCli(["explain", ...args, "--state-dir", dir, "--json"], env));
}

const rules = (r: ExplainReport) => r.trace.map((t) => t.rule);

/** A non-loopback IPv4 address of this host, if it has one. */
function lanAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return null;
}

describe("explain: hypothetical connections decided by the policy", () => {
  it("--json has {decision, reason, trace:[{rule, explanation}], remedy}, every rule explained", async () => {
    const r = await explain(["--from", "10.1.2.3", "--token", "--scope", "operator.read"]);
    for (const key of ["decision", "reason", "trace", "remedy"]) assert.ok(key in r, key);
    for (const t of r.trace) {
      assert.equal(typeof t.rule, "string");
      assert.notEqual(t.explanation, t.rule, `rule ${t.rule} has a sentence`);
    }
    assert.equal(typeof r.remedy.explanation, "string");
  });

  it("S02: a local backend without a device, with the token, is admitted and keeps its scopes", async () => {
    const r = await explain([
      "--no-device",
      "--client",
      "gateway-client",
      "--token",
      "--scope",
      "operator.admin",
    ]);
    assert.equal(r.decision, "admit");
    assert.deepEqual(r.scopes, ["operator.admin"]);
    assert.ok(rules(r).includes("device-less-local-backend-keeps-scopes"));
    assert.equal(r.remedy.command, null);
  });

  it("C13: the same device-less client from another address is admitted with no scopes", async () => {
    const r = await explain([
      "--from",
      "10.9.8.7",
      "--no-device",
      "--client",
      "gateway-client",
      "--token",
      "--scope",
      "operator.admin",
    ]);
    assert.equal(r.decision, "admit");
    assert.deepEqual(r.scopes, []);
    assert.ok(rules(r).includes("device-less-no-scopes"));
    assert.match(r.remedy.explanation, /no scopes/);
  });

  it("S17: a CLI in another container with the token pends not-paired, with the approve hint", async () => {
    const r = await explain(["--from", "172.18.0.3", "--token", "--scope", "operator.read"]);
    assert.equal(r.decision, "pend");
    assert.equal(r.reason, "not-paired");
    assert.ok(rules(r).includes("client-not-loopback"));
    assert.ok(rules(r).includes("remote-needs-approval"));
    assert.equal(r.remedy.command, "gatehouse devices list");
    assert.match(r.remedy.explanation, /gatehouse devices approve <requestId>/);
    assert.match(r.remedy.explanation, /deliberate/);
  });

  it("C01: a remote peer claiming gateway-client/backend with the token still pends, and that is deliberate", async () => {
    const r = await explain([
      "--from",
      "203.0.113.9",
      "--client",
      "gateway-client",
      "--token",
      "--scope",
      "operator.admin",
    ]);
    assert.equal(r.decision, "pend");
    assert.match(
      r.remedy.explanation,
      /never paired or upgraded silently, whatever client id they claim\. That is deliberate/,
    );
  });

  it("S21/C05: a loopback peer with a non-local Host header is remote", async () => {
    const r = await explain([
      "--from",
      "127.0.0.1",
      "--host",
      "umbrel.local:18789",
      "--client",
      "gateway-client",
      "--token",
      "--scope",
      "operator.write",
    ]);
    assert.equal(r.decision, "pend");
    assert.deepEqual(rules(r).slice(0, 2), ["client-loopback", "host-not-loopback"]);
    assert.ok(rules(r).includes("remote-needs-approval"));
    assert.match(r.remedy.explanation, /non-loopback Host header is treated as remote/);
  });

  it("S24/C03: forwarded headers from an untrusted peer make the connection remote", async () => {
    const r = await explain([
      "--from",
      "127.0.0.1",
      "--forwarded",
      "127.0.0.1",
      "--token",
      "--scope",
      "operator.read",
    ]);
    assert.equal(r.decision, "pend");
    assert.equal(rules(r)[0], "proxy-headers-from-untrusted-peer");
    assert.match(r.remedy.explanation, /gateway\.trustedProxies/);
  });

  it("S31: the same host dialing its LAN address is remote and pends; the remedy says dial loopback", async () => {
    const lan = lanAddress() ?? "192.0.2.77";
    const r = await explain(["--from", lan, "--token", "--scope", "operator.read"]);
    assert.equal(r.decision, "pend");
    assert.ok(rules(r).includes("client-not-loopback"));
    if (lanAddress())
      assert.match(r.remedy.explanation, /ws:\/\/127\.0\.0\.1:\d+ instead and it counts as local\./);
  });

  it("S08: a legacy admin-only device asking for write is admitted, even from a remote address", async () => {
    const r = await explain([
      "--from",
      "192.168.1.20",
      "--device",
      legacyId.slice(0, 12),
      "--token",
      "--scope",
      "operator.write",
    ]);
    assert.equal(r.decision, "admit");
    assert.deepEqual(rules(r).slice(-2), ["credential-token", "covered-by-approval"]);
    const byToken = await explain(["--device", legacyId, "--device-token", "--scope", "operator.write"]);
    assert.equal(byToken.decision, "admit");
    assert.ok(rules(byToken).includes("credential-device-token"));
  });

  it("S01: the owner key is admitted, and a local new device with the token is approved silently", async () => {
    const owner = await explain(["--device", "owner", "--scope", "operator.admin"]);
    assert.equal(owner.decision, "admit");
    assert.ok(rules(owner).includes("credential-owner-key"));
    const fresh = await explain(["--token", "--scope", "operator.write"]);
    assert.equal(fresh.decision, "approve-then-admit");
    assert.ok(rules(fresh).includes("silent-local-approval-token"));
  });

  it("C08: a revoked device token is refused, and the remedy names the credential to use", async () => {
    const r = await explain(["--device", revokedId, "--device-token", "--scope", "operator.read"]);
    assert.equal(r.decision, "reject");
    assert.equal(r.reason, "AUTH_DEVICE_TOKEN_MISMATCH");
    assert.match(r.remedy.explanation, /Present the shared token/);
  });

  it("no credential: AUTH_TOKEN_MISSING, and the remedy says which one to provide", async () => {
    const r = await explain(["--no-auth", "--scope", "operator.read"]);
    assert.equal(r.decision, "reject");
    assert.equal(r.reason, "AUTH_TOKEN_MISSING");
    assert.match(r.remedy.explanation, /gateway\.auth\.token/);
  });

  it("C02: a browser Origin not allowed is refused at the upgrade; an allowed one is never paired silently", async () => {
    const evil = await explain(["--origin", "https://evil.example", "--token"]);
    assert.equal(evil.decision, "reject");
    assert.equal(evil.reason, "CONTROL_UI_ORIGIN_NOT_ALLOWED");
    assert.deepEqual(rules(evil), ["origin-not-allowed"]);
    const ui = await explain([
      "--origin",
      "https://ui.example",
      "--client",
      "openclaw-control-ui",
      "--token",
    ]);
    assert.equal(ui.decision, "pend");
    assert.ok(rules(ui).includes("browser-origin-needs-approval"));
  });

  it("the text view lists each rule with its sentence and the command", async () => {
    const r = await runCli(["explain", "--from", "172.18.0.3", "--token", "--state-dir", dir], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^decision\s+pend — not-paired$/m);
    assert.match(r.stdout, /^ {2}\d\. remote-needs-approval: The connection is not direct-local/m);
    assert.match(r.stdout, /^ {2}\$ gatehouse devices list$/m);
  });

  it("usage errors: both a target and flags, or nothing to explain", async () => {
    const both = await runCli(["explain", "abc", "--from", "1.2.3.4", "--state-dir", dir], env);
    assert.equal(both.code, 2);
    const none = await runCli(["explain", "--state-dir", dir], env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /nothing to explain/);
    const badClient = await runCli(["explain", "--client", "nope", "--state-dir", dir], env);
    assert.equal(badClient.code, 2);
  });

  it("every rule id has a sentence; ids of another version are shown as they are", () => {
    assert.equal(ruleSentence("some-future-rule"), "some-future-rule");
    assert.match(ruleSentence("silent-local-approval-password"), /shared password/);
    for (const [id, text] of Object.entries(RULE_SENTENCES)) assert.ok(text.length > 20, id);
  });
});

describe("explain: a real refusal replayed from the audit log", () => {
  it("a requestId and the device's last attempt give the decision, its rules and the exact approve command", async () => {
    const port = await freePort();
    const gwDir = sandbox.stateDir({
      gateway: { port, auth: { token: TOKEN }, pairing: { autoApproveLocal: false } },
    });
    const gw = await spawnGateway(["--state-dir", gwDir], env);
    try {
      const deviceDir = sandbox.stateDir();
      const refused = await runCli(
        ["health", "--state-dir", deviceDir, "--url", `ws://127.0.0.1:${port}`, "--token", TOKEN],
        env,
      );
      assert.equal(refused.code, 1);
      const requestId = /requestId (\S+)\)/.exec(refused.stderr)?.[1];
      assert.ok(requestId, refused.stderr);

      const byRequest = parse(await runCli(["explain", requestId, "--state-dir", gwDir, "--json"], env));
      assert.equal(byRequest.source, "request");
      assert.equal(byRequest.decision, "pend");
      assert.equal(byRequest.reason, "not-paired");
      assert.equal(byRequest.requestId, requestId);
      assert.ok(rules(byRequest).includes("auto-approve-local-disabled"));
      assert.equal(byRequest.remedy.command, `gatehouse devices approve ${requestId}`);
      assert.match(byRequest.remedy.explanation, /autoApproveLocal is false/);

      const deviceId = byRequest.deviceId!;
      const byDevice = parse(
        await runCli(["explain", deviceId.slice(0, 10), "--state-dir", gwDir, "--json"], env),
      );
      assert.equal(byDevice.source, "device");
      assert.equal(byDevice.decision, "pend");
      assert.equal(byDevice.remedy.command, `gatehouse devices approve ${requestId}`);

      const text = await runCli(["explain", requestId, "--state-dir", gwDir], env);
      assert.match(text.stdout, /^source\s+recorded connect at \S+ \(audit #\d+\)$/m);
      assert.match(text.stdout, new RegExp(`\\$ gatehouse devices approve ${requestId}`));

      const approve = await runCli(["devices", "approve", requestId, "--state-dir", gwDir], env);
      assert.equal(approve.code, 0, approve.stderr);
      const after = parse(await runCli(["explain", requestId, "--state-dir", gwDir, "--json"], env));
      assert.equal(after.remedy.command, null);
      assert.match(after.remedy.explanation, /was approved/);

      const unknown = await runCli(
        ["explain", "00000000-0000-4000-8000-000000000000", "--state-dir", gwDir],
        env,
      );
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /UNKNOWN_REQUEST/);
    } finally {
      await gw.stop();
    }
  });
});
