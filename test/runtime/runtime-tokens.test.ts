/**
 * C25 for sub-agents: a child holds a runtime token bound to its job, never a shared secret or a
 * device token; the token admits nothing beyond its scopes and nothing at all once the job ended
 * or the token expired.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connectFromEnv, GatewayClient, GatewayClientError } from "../../src/client/index.js";
import { generateIdentity } from "../../src/identity/keys.js";
import {
  connectClient,
  resultOf,
  RUNTIME_TEST_TOKEN,
  spawnChild,
  startRuntimeGateway,
  waitEnded,
  type RuntimeGateway,
} from "./helpers.js";

const PASSWORD = "gateway-password-that-is-long-enough";
const PARENT_RUNTIME_TOKEN = "the-gateways-own-runtime-token-0123456789";
const API_KEY = "sk-test-api-key-0123456789";

let gw: RuntimeGateway;
let admin: GatewayClient;
/** A device token this gateway issued (to a paired non-owner device). */
let deviceToken: string;
const dir = mkdtempSync(join(tmpdir(), "gatehouse-rt-tokens-"));

before(async () => {
  // The gateway's environment holds every kind of secret a real one might.
  const inheritedEnv: NodeJS.ProcessEnv = {
    ...process.env,
    GATEHOUSE_GATEWAY_TOKEN: RUNTIME_TEST_TOKEN,
    GATEHOUSE_GATEWAY_PASSWORD: PASSWORD,
    GATEHOUSE_RUNTIME_TOKEN: PARENT_RUNTIME_TOKEN,
    OPENAI_API_KEY: API_KEY,
    // A name no pattern catches: only the value check keeps the shared secret out.
    GW_BACKUP_SETTING: `url=ws://x;t=${RUNTIME_TEST_TOKEN}`,
    HARMLESS_SETTING: "kept",
  };
  gw = await startRuntimeGateway({ runtime: { sessions: { inheritedEnv } } });
  admin = await connectClient(gw, ["operator.admin"]);
  // Pair a second device with the shared secret (silent local approval) to get a device token.
  const device = new GatewayClient({
    url: gw.url,
    identity: generateIdentity(),
    auth: { token: RUNTIME_TEST_TOKEN },
    scopes: ["operator.read"],
  });
  const hello = await device.connect();
  deviceToken = hello.auth.deviceToken!;
  assert.ok(deviceToken, "the device got a token");
  await device.close();
  inheritedEnv.OPENCLAW_DEVICE_TOKEN = deviceToken;
  inheritedEnv.DEVICE_BLOB = deviceToken;
});
after(async () => {
  await admin.close();
  await gw.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function refusedConnect(token: string, scopes: string[] = []): Promise<GatewayClientError> {
  const client = new GatewayClient({
    url: gw.url,
    auth: { agentRuntimeIdentityToken: token },
    client: { id: "gateway-client", mode: "backend" },
    scopes,
  });
  try {
    await client.connect();
  } catch (err) {
    assert.ok(err instanceof GatewayClientError);
    return err;
  } finally {
    await client.close();
  }
  assert.fail("expected the connect to be refused");
}

describe("C25 — a spawned child's environment holds no shared secret and no device token", () => {
  it("C25: the child prints its env: only its own runtime token, no gateway secret by name or by value", async () => {
    const s = await spawnChild(admin, "env", [], { scopes: ["operator.read"], env: { FROM_CALLER: "yes" } });
    const env = resultOf<Record<string, string>>(await waitEnded(gw, s.id));
    const all = JSON.stringify(env);
    for (const [what, secret] of [
      ["shared token", RUNTIME_TEST_TOKEN],
      ["password", PASSWORD],
      ["the gateway's own runtime token", PARENT_RUNTIME_TOKEN],
      ["API key", API_KEY],
      ["device token", deviceToken],
    ] as const) {
      assert.equal(all.includes(secret), false, `${what} found in the child's env`);
    }
    assert.deepEqual(
      Object.keys(env)
        .filter((k) => k.toUpperCase().startsWith("GATEHOUSE_"))
        .sort(),
      [
        "GATEHOUSE_GATEWAY_URL",
        "GATEHOUSE_RUNTIME_SCOPES",
        "GATEHOUSE_RUNTIME_TOKEN",
        "GATEHOUSE_SESSION_ID",
      ],
    );
    assert.deepEqual(
      Object.keys(env).filter((k) => /TOKEN|PASSWORD|SECRET|KEY/i.test(k)),
      ["GATEHOUSE_RUNTIME_TOKEN"],
    );
    assert.match(env.GATEHOUSE_RUNTIME_TOKEN!, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(env.GATEHOUSE_GATEWAY_URL, gw.server.localUrl());
    assert.equal(env.GATEHOUSE_SESSION_ID, s.id);
    assert.equal(env.GATEHOUSE_RUNTIME_SCOPES, "operator.read");
    assert.equal(env.HARMLESS_SETTING, "kept", "ordinary settings are inherited");
    assert.equal(env.FROM_CALLER, "yes");
    assert.equal(env.PATH, process.env.PATH);
    // The owner key's private half is not there either.
    const ownerFile = readFileSync(join(gw.stateDir, "identity", "device.json"), "utf8");
    const privateKey = (JSON.parse(ownerFile) as Record<string, string>).privateKeyPem ?? "";
    if (privateKey) assert.equal(all.includes(privateKey.split("\n")[1] ?? privateKey), false);
  });

  it("C25: the default (process.env) path withholds the gateway's secrets too", async () => {
    const saved = { ...process.env };
    process.env.GATEHOUSE_GATEWAY_TOKEN = RUNTIME_TEST_TOKEN;
    process.env.SOME_SERVICE_SECRET = "abcdefgh-secret";
    const g = await startRuntimeGateway();
    try {
      const client = await connectClient(g, ["operator.admin"]);
      const s = await spawnChild(client, "env");
      const env = resultOf<Record<string, string>>(await waitEnded(g, s.id));
      await client.close();
      assert.equal(JSON.stringify(env).includes(RUNTIME_TEST_TOKEN), false);
      assert.equal(env.SOME_SERVICE_SECRET, undefined);
    } finally {
      process.env = saved;
      await g.dispose();
    }
  });

  it("C25: a caller cannot pass the shared secret, a device token or GATEHOUSE_* variables to a child", async () => {
    for (const env of [
      { PASS_IT_ON: RUNTIME_TEST_TOKEN },
      { MY_DEVICE: deviceToken },
      { GATEHOUSE_GATEWAY_TOKEN: "x" },
    ]) {
      const err = await admin.request("sessions.spawn", { command: process.execPath, env }).then(
        () => assert.fail("accepted"),
        (e: unknown) => e as GatewayClientError,
      );
      assert.equal(err.detailCode, "INVALID_PARAMS");
      assert.equal(err.message.includes(RUNTIME_TEST_TOKEN), false, "the refusal never echoes the secret");
      assert.equal(err.message.includes(deviceToken), false);
    }
  });
});

describe("C25 — a runtime token is useless after its job ends or expires", () => {
  it("C25: once the child exited its token is refused (AUTH_RUNTIME_TOKEN_INVALID)", async () => {
    const file = join(dir, "token");
    // The child is sandboxed: it sees (and, as the sandbox user, may write) only its working directory.
    chmodSync(dir, 0o777);
    const s = await spawnChild(admin, "token-file", [file], { scopes: ["operator.read"], cwd: dir });
    const ended = await waitEnded(gw, s.id);
    assert.equal(ended.exitCode, 0, ended.stderrTail ?? "");
    const token = readFileSync(file, "utf8");
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    const err = await refusedConnect(token, ["operator.read"]);
    assert.equal(err.detailCode, "AUTH_RUNTIME_TOKEN_INVALID");
    assert.equal(err.message.includes(token), false);
    const rows = gw.store.runtimeTokens.listForJob(s.id);
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0]!.revokedAtMs, null);
  });

  it("C25: an expired token is refused; before expiry the same kind of token works", async () => {
    const live = gw.runtime.runtimeTokens.mint("job-live", ["operator.read"], 60_000);
    const ok = new GatewayClient({
      url: gw.url,
      auth: { agentRuntimeIdentityToken: live },
      client: { id: "gateway-client", mode: "backend" },
      scopes: ["operator.read"],
    });
    const hello = await ok.connect();
    assert.equal(hello.auth.method, "runtime-token");
    await ok.close();
    const short = gw.runtime.runtimeTokens.mint("job-short", ["operator.read"], 30);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal((await refusedConnect(short, ["operator.read"])).detailCode, "AUTH_RUNTIME_TOKEN_INVALID");
  });

  it("C25: a child asking for more than its token carries is refused, not escalated", async () => {
    const s = await spawnChild(admin, "beyond", ["operator.admin"], { scopes: ["operator.read"] });
    const seen = resultOf<{ ok: boolean; detailCode?: string }>(await waitEnded(gw, s.id));
    assert.equal(seen.ok, false);
    assert.equal(seen.detailCode, "AUTH_SCOPE_MISMATCH");
    assert.equal(gw.store.pending.list(Date.now()).length, 0, "no pairing request either");
  });

  it("C25: a read-only child cannot call an admin method, such as spawning", async () => {
    const s = await spawnChild(
      admin,
      "call",
      ["sessions.spawn", JSON.stringify({ command: process.execPath })],
      { scopes: ["operator.read"] },
    );
    const seen = resultOf<{ ok: boolean; detailCode?: string }>(await waitEnded(gw, s.id));
    assert.deepEqual([seen.ok, seen.detailCode], [false, "MISSING_SCOPE"]);
  });

  it("connectFromEnv outside a gateway-started process says which variables are missing", async () => {
    await assert.rejects(connectFromEnv({ env: {} }), (err: unknown) => {
      assert.ok(err instanceof GatewayClientError);
      assert.equal(err.code, "INVALID_OPTIONS");
      assert.match(err.message, /GATEHOUSE_GATEWAY_URL and GATEHOUSE_RUNTIME_TOKEN are not set/);
      return true;
    });
    await assert.rejects(
      connectFromEnv({ env: { GATEHOUSE_GATEWAY_URL: gw.url } }),
      /GATEHOUSE_RUNTIME_TOKEN is not set/,
    );
  });
});
