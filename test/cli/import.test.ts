/**
 * `gatehouse import openclaw` as a user runs it, on OpenClaw state dirs in both formats: the table
 * of what would be imported, `--apply`, a malformed record reported while the rest is imported,
 * and then the real test: a gateway on the importing state dir admits the imported devices
 * without pairing — with their old device tokens, or with the shared token from a remote path.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { ImportReport } from "../../src/cli/commands/import.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { freePort, runCli, spawnGateway, type CliResult } from "../helpers/gateway-process.js";
import {
  fixtureSet,
  toRow,
  writeJsonState,
  writeSqliteState,
  type FixtureDevice,
} from "../helpers/openclaw-fixtures.js";
import { openPeer, sendConnect, type Frame } from "../helpers/raw-client.js";

const sandbox = createCliSandbox();
const env = sandbox.env;
after(() => sandbox.cleanup());

const TOKEN = "import-test-token-0123456789abcdefghijklmn";

function parse(r: CliResult): ImportReport {
  try {
    return JSON.parse(r.stdout) as ImportReport;
  } catch {
    assert.fail(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

/** A Gatehouse state dir whose loopback connects are never approved silently (so nothing hides a failure). */
async function gatehouseDir(): Promise<{ dir: string; port: number }> {
  const port = await freePort();
  const dir = sandbox.stateDir({
    gateway: {
      port,
      auth: { token: TOKEN },
      trustedProxies: ["127.0.0.1"],
      pairing: { autoApproveLocal: false },
    },
  });
  return { dir, port };
}

/** Connects as an imported device; `remote` sends through the trusted same-host proxy from another address. */
async function connectAs(
  url: string,
  d: FixtureDevice,
  auth: { token?: string; deviceToken?: string },
  scopes: string[],
  remote = false,
): Promise<Frame> {
  const peer = await openPeer(url, remote ? { "X-Forwarded-For": "198.51.100.7" } : {});
  try {
    return await sendConnect(peer, { identity: d.identity, auth, scopes, platform: "linux" });
  } finally {
    peer.ws.close();
  }
}

describe("gatehouse import openclaw", () => {
  it("shows the table without writing, imports with --apply, and the devices connect without pairing (JSON files)", async () => {
    const f = fixtureSet();
    const from = sandbox.stateDir();
    writeJsonState(
      from,
      [f.singleRole, f.scopesOnly, f.revoked, f.legacyAdmin, f.emptyTokens, f.issuerBound, f.malformed],
      {
        pending: 2,
      },
    );
    const { dir } = await gatehouseDir();

    const dry = await runCli(["import", "openclaw", from, "--state-dir", dir], env);
    assert.equal(dry.code, 1, "a malformed record makes the exit status 1");
    assert.match(dry.stdout, /DEVICE\s+NAME\s+SOURCE\s+ROLES\s+APPROVED SCOPES\s+TOKENS\s+STATUS/);
    assert.match(
      dry.stdout,
      /single-role\s+devices\/paired\.json\s+operator\s+operator\.read, operator\.write\s+operator: active\s+new/,
    );
    assert.match(dry.stdout, /revoked .*operator: revoked\s+new/);
    assert.match(dry.stdout, /2 pending requests were not imported: requests are transient/);
    assert.match(dry.stdout, /dry run: nothing was written/);
    assert.match(dry.stdout, /deviceId does not match its publicKey/);
    assert.ok(!dry.stdout.includes(f.singleRole.tokens.operator!), "tokens are never printed");

    const applied = await runCli(["import", "openclaw", from, "--apply", "--json", "--state-dir", dir], env);
    assert.equal(applied.code, 1, applied.stderr);
    const report = parse(applied);
    assert.equal(report.applied, true);
    assert.deepEqual(report.summary, { new: 0, alreadyPresent: 0, imported: 6, errors: 1 });
    assert.equal(report.pending.imported, false);
    assert.equal(report.pending.count, 2);
    assert.ok(!applied.stdout.includes(f.singleRole.tokens.operator!));

    const again = parse(await runCli(["import", "openclaw", from, "--json", "--state-dir", dir], env));
    assert.equal(again.summary.alreadyPresent, 6, "a second run finds them all present");

    const gw = await spawnGateway(["--state-dir", dir], env);
    try {
      // The old device token keeps working: no pairing, no shared secret.
      const byToken = await connectAs(gw.url, f.singleRole, { deviceToken: f.singleRole.tokens.operator! }, [
        "operator.write",
      ]);
      assert.equal(byToken.ok, true, JSON.stringify(byToken.error));
      assert.equal((byToken.payload as { auth: { method: string } }).auth.method, "device-token");

      // S08: the pre-2026.2.19 admin-only set admits a write request.
      const legacy = await connectAs(gw.url, f.legacyAdmin, { deviceToken: f.legacyAdmin.tokens.operator! }, [
        "operator.write",
      ]);
      assert.equal(legacy.ok, true, JSON.stringify(legacy.error));

      // From a remote path with the shared token: covered by the imported approval, so no pairing;
      // a device whose token was dropped (or never had one) gets a new one.
      for (const d of [f.scopesOnly, f.emptyTokens, f.issuerBound]) {
        const res = await connectAs(gw.url, d, { token: TOKEN }, ["operator.read"], true);
        assert.equal(res.ok, true, `${d.name}: ${JSON.stringify(res.error)}`);
        assert.equal(typeof (res.payload as { auth: { deviceToken?: string } }).auth.deviceToken, "string");
      }

      // Revoked stays revoked: the old token is refused, and the role is not silently restored.
      const revoked = await connectAs(gw.url, f.revoked, { deviceToken: f.revoked.tokens.operator! }, [
        "operator.read",
      ]);
      assert.equal(revoked.ok, false);
      assert.equal(revoked.error?.details?.code, "AUTH_DEVICE_TOKEN_MISMATCH");
      const repair = await connectAs(gw.url, f.revoked, { token: TOKEN }, ["operator.read"], true);
      assert.equal(repair.error?.details?.code, "PAIRING_REQUIRED");
      assert.equal(repair.error?.details?.reason, "role-upgrade");
    } finally {
      await gw.stop();
    }
  });

  it("imports from state/openclaw.sqlite into a running gateway's store and says so", async () => {
    const f = fixtureSet();
    const from = sandbox.stateDir();
    const bad = {
      ...toRow(f.malformed.record),
      device_id: f.malformed.identity.deviceId,
      scopes_json: "{oops",
    };
    writeSqliteState(from, [f.singleRole, f.emptyTokens, f.revoked], { pending: 1, rows: [bad] });
    const { dir } = await gatehouseDir();
    const gw = await spawnGateway(["--state-dir", dir], env);
    try {
      const r = await runCli(["import", "openclaw", from, "--apply", "--state-dir", dir], env);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /state\/openclaw\.sqlite/);
      assert.match(r.stdout, /scopes_json is not valid JSON/);
      assert.match(r.stdout, /imported 3 devices into .*gatehouse\.sqlite; 0 already present; 1 error/);
      assert.match(
        r.stdout,
        /the gateway is running: connected devices pick the changes up on their next connect/,
      );
      assert.match(r.stdout, /1 pending request was not imported/);

      const res = await connectAs(gw.url, f.singleRole, { deviceToken: f.singleRole.tokens.operator! }, [
        "operator.read",
      ]);
      assert.equal(res.ok, true, JSON.stringify(res.error));
      const remote = await connectAs(gw.url, f.emptyTokens, { token: TOKEN }, ["operator.read"], true);
      assert.equal(remote.ok, true, JSON.stringify(remote.error));
    } finally {
      await gw.stop();
    }
  });

  it("reports OpenClaw's own identity without adopting it, and refuses a dir with no pairing state", async () => {
    const f = fixtureSet();
    const from = sandbox.stateDir();
    writeJsonState(from, [f.singleRole], { identity: f.scopesOnly.identity });
    const { dir } = await gatehouseDir();
    const r = parse(await runCli(["import", "openclaw", from, "--apply", "--json", "--state-dir", dir], env));
    assert.deepEqual(r.identity, {
      deviceId: f.scopesOnly.identity.deviceId,
      source: "identity/device.json",
      adopted: false,
    });
    assert.ok(r.notes.some((n) => n.includes("reported only, not adopted")));

    const empty = sandbox.stateDir();
    writeFileSync(join(empty, "unrelated.txt"), "x");
    const none = await runCli(["import", "openclaw", empty, "--state-dir", dir], env);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /NOTHING_TO_IMPORT/);
  });
});
