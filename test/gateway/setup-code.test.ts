/**
 * Setup codes end to end against the real gateway (in process): minting over `device.pair.setupCode`
 * (who may mint what), redemption as `auth.bootstrapToken` (exactly the profile, once), and every
 * way a code must admit nothing (C23): used, expired, wrong, in the shared-token slot, beyond its
 * profile, without a device; failed tries are rate-limited per address (C17).
 */
import type { GatewayRole } from "../../src/protocol/client-info.js";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { GatewayClient, GatewayClientError, MemoryDeviceTokenStore } from "../../src/client/index.js";
import { generateIdentity, type DeviceIdentity } from "../../src/identity/index.js";
import { normalizeSetupCode, parseSetupInput } from "../../src/protocol/setup-code.js";
import { openPeer, sendConnect } from "../helpers/raw-client.js";
import { startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";

interface Minted {
  code: string;
  link: string;
  profile: string;
  roles: string[];
  scopes: string[];
  url: string;
  fingerprint: string | null;
  expiresAtMs: number;
}

async function rejection(p: Promise<unknown>): Promise<GatewayClientError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof GatewayClientError, `expected a GatewayClientError, got ${String(err)}`);
  return err;
}

describe("setup codes against the gateway", () => {
  let gw: TestGateway;
  let owner: GatewayClient;
  const clients: GatewayClient[] = [];

  /** A client that signs with `identity` and presents only the code (no shared secret). */
  const withCode = (
    identity: DeviceIdentity,
    code: string,
    o: { role?: GatewayRole; scopes?: string[]; store?: MemoryDeviceTokenStore; commands?: string[] } = {},
  ) => {
    const c = new GatewayClient({
      url: gw.url,
      identity,
      auth: { bootstrapToken: code },
      deviceTokenStore: o.store ?? new MemoryDeviceTokenStore(),
      client: o.role === "node" ? { id: "node-host", mode: "node" } : { id: "cli", mode: "cli" },
      role: o.role ?? "operator",
      scopes: o.scopes ?? ["operator.read"],
      ...(o.commands ? { commands: o.commands } : {}),
    });
    clients.push(c);
    return c;
  };
  const mint = (params: Record<string, unknown> = {}, by: GatewayClient = owner) =>
    by.request<Minted>("device.pair.setupCode", params);

  before(async () => {
    // Not auto-approving local devices: the code must be what approves them.
    gw = await startTestGateway({ autoApproveLocal: false });
    owner = new GatewayClient({ url: gw.url, identity: gw.owner, scopes: ["operator.admin"] });
    await owner.connect();
  });
  after(async () => {
    for (const c of clients) await c.close();
    await owner.close();
    await gw.stop();
  });

  it("minting: a short grouped code, a gatehouse:// link with the URL, stored only as a hash", async () => {
    const m = await mint({ profile: "operator-limited" });
    assert.match(m.code, /^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{2}$/);
    assert.equal(m.profile, "operator-limited");
    assert.deepEqual(m.roles, ["operator"]);
    assert.deepEqual(m.scopes, ["operator.approvals", "operator.read", "operator.write"]);
    assert.equal(m.fingerprint, null, "plain ws:// gateway: no fingerprint");
    assert.ok(m.expiresAtMs - Date.now() > 9 * 60_000 && m.expiresAtMs - Date.now() <= 10 * 60_000, "10 min");
    const link = parseSetupInput(m.link);
    assert.equal(link?.code, normalizeSetupCode(m.code));
    assert.equal(link?.profile, "operator-limited");
    assert.match(link?.url ?? "", /^ws:\/\/127\.0\.0\.1:\d+$/);
    const rows = gw.store.setupCodes.listLive(Date.now());
    assert.ok(rows.length >= 1);
    assert.equal(JSON.stringify(rows).includes(normalizeSetupCode(m.code)!), false);
    const audit = gw.store.audit.list({ limit: 50 }).find((r) => r.kind === "setup-code");
    assert.equal(audit?.decision, "minted");
  });

  it("a device presenting the code is approved with exactly the profile, once; then its token works", async () => {
    const m = await mint({ profile: "operator-limited", ttlMs: 60_000 });
    const dev = generateIdentity();
    const store = new MemoryDeviceTokenStore();
    const c = withCode(dev, m.code, { scopes: ["operator.read"], store });
    const hello = await c.connect();
    assert.equal(hello.auth.method, "setup-code");
    assert.deepEqual(hello.auth.scopes, ["operator.read"]);
    assert.ok(hello.auth.deviceToken, "a device token is issued");
    assert.deepEqual(hello.auth.deviceTokens?.[0]?.scopes, [
      "operator.approvals",
      "operator.read",
      "operator.write",
    ]);
    assert.deepEqual(store.get(dev.deviceId, "operator")?.scopes, [
      "operator.approvals",
      "operator.read",
      "operator.write",
    ]);
    const rec = gw.store.devices.get(dev.deviceId);
    assert.equal(rec?.approvedVia, "setup-code");
    assert.deepEqual(rec?.roles, ["operator"]);
    assert.deepEqual(rec?.scopes, ["operator.approvals", "operator.read", "operator.write"]);
    assert.ok(await c.request("health"));
    await c.close();

    // Reconnecting: the client dropped the spent code and uses its device token.
    const again = new GatewayClient({
      url: gw.url,
      identity: dev,
      deviceTokenStore: store,
      scopes: ["operator.write"],
    });
    clients.push(again);
    assert.equal((await again.connect()).auth.method, "device-token");
    await again.close();

    // The same device restarted with the spent code still configured (node run --pair …): the code
    // is ignored beside its working token.
    const restarted = withCode(dev, m.code, { scopes: ["operator.read"], store });
    assert.equal((await restarted.connect()).auth.method, "device-token");
    await restarted.close();

    // Another device with the same code: dead.
    const thief = generateIdentity();
    const err = await rejection(withCode(thief, m.code).connect());
    assert.equal(err.detailCode, "AUTH_BOOTSTRAP_TOKEN_INVALID");
    assert.equal(err.closeCode, 1008);
    assert.equal(gw.store.devices.get(thief.deviceId), null);
    assert.equal(gw.store.pending.getByDevice(thief.deviceId, Date.now()), null, "and no pending request");
  });

  it("C23: an expired or wrong code, or a code in the shared-token slot, admits nothing", async () => {
    const now = Date.now();
    gw.store.setupCodes.create({
      code: "EXP1RED234".replace("1", "Z"),
      profile: "operator-full",
      roles: ["operator"],
      scopes: ["operator.admin"],
      gatewayUrl: gw.url,
      fingerprint: null,
      createdBy: "test",
      createdAtMs: now - 120_000,
      expiresAtMs: now - 1,
    });
    for (const code of ["EXPZRED234", "WRNG-CDEX-22", "not a code at all"]) {
      const dev = generateIdentity();
      const err = await rejection(withCode(dev, code).connect());
      assert.equal(err.detailCode, "AUTH_BOOTSTRAP_TOKEN_INVALID", code);
      assert.equal(gw.store.devices.get(dev.deviceId), null);
    }

    const m = await mint({ profile: "operator-full" });
    const dev = generateIdentity();
    // Pasted as the gateway token: a token mismatch, never an approval.
    const asToken = new GatewayClient({
      url: gw.url,
      identity: dev,
      auth: { token: m.code },
      scopes: ["operator.admin"],
    });
    clients.push(asToken);
    const err = await rejection(asToken.connect());
    assert.equal(err.detailCode, "AUTH_TOKEN_MISMATCH");
    const asRawToken = new GatewayClient({
      url: gw.url,
      identity: dev,
      auth: { token: normalizeSetupCode(m.code)! },
      scopes: ["operator.admin"],
    });
    clients.push(asRawToken);
    assert.equal((await rejection(asRawToken.connect())).detailCode, "AUTH_TOKEN_MISMATCH");
    assert.equal(gw.store.devices.get(dev.deviceId), null);
    // …and the code itself was not spent by that.
    assert.equal(gw.store.setupCodes.lookup(normalizeSetupCode(m.code)!, Date.now()).kind, "valid");
  });

  it("asking beyond the profile is refused and does not spend the code; the right ask then works", async () => {
    const m = await mint({ profile: "operator-limited" });
    const dev = generateIdentity();
    const err = await rejection(withCode(dev, m.code, { scopes: ["operator.admin"] }).connect());
    assert.equal(err.detailCode, "AUTH_SCOPE_MISMATCH");
    assert.equal(gw.store.pending.getByDevice(dev.deviceId, Date.now()), null, "refused, not pending");
    const nodeErr = await rejection(withCode(dev, m.code, { role: "node", scopes: [] }).connect());
    assert.equal(nodeErr.detailCode, "AUTH_SCOPE_MISMATCH");
    const ok = await withCode(dev, m.code, { scopes: ["operator.write"] }).connect();
    assert.equal(ok.auth.method, "setup-code");
  });

  it("a node code pairs a node host (role node, no operator scopes); a device-less client cannot use a code", async () => {
    const m = await mint({ profile: "node" });
    const dev = generateIdentity();
    const hello = await withCode(dev, m.code, {
      role: "node",
      scopes: [],
      commands: ["system.which"],
    }).connect();
    assert.equal(hello.auth.role, "node");
    const rec = gw.store.devices.get(dev.deviceId);
    assert.deepEqual(rec?.roles, ["node"]);
    assert.deepEqual(rec?.scopes, []);
    // C19: a node code is an admin's approval given in advance; its first surface is pinned with it.
    const surface = gw.store.nodeSurfaces.get(dev.deviceId);
    assert.deepEqual([surface?.commands, surface?.approvedVia], [["system.which"], "setup-code"]);
    assert.deepEqual(gw.store.nodeSurfaces.requests(), []);

    const m2 = await mint({ profile: "node" });
    const deviceLess = new GatewayClient({
      url: gw.url,
      auth: { token: TEST_TOKEN, bootstrapToken: m2.code },
      scopes: [],
    });
    clients.push(deviceLess);
    assert.equal((await rejection(deviceLess.connect())).detailCode, "AUTH_BOOTSTRAP_TOKEN_INVALID");
  });

  it("who may mint: operator.pairing for a limited code needs the scopes it grants; full and node need admin", async () => {
    const pairingOnly = new GatewayClient({
      url: gw.url,
      auth: { token: TEST_TOKEN },
      scopes: ["operator.pairing"],
    });
    const limitedMinter = new GatewayClient({
      url: gw.url,
      auth: { token: TEST_TOKEN },
      scopes: ["operator.pairing", "operator.write", "operator.approvals"],
    });
    const reader = new GatewayClient({
      url: gw.url,
      auth: { token: TEST_TOKEN },
      scopes: ["operator.write"],
    });
    clients.push(pairingOnly, limitedMinter, reader);
    await Promise.all([pairingOnly.connect(), limitedMinter.connect(), reader.connect()]);
    for (const [by, profile, missing] of [
      [pairingOnly, "operator-limited", "operator.approvals"],
      [limitedMinter, "operator-full", "operator.admin"],
      [limitedMinter, "node", "operator.admin"],
      [reader, "operator-limited", "operator.pairing"],
    ] as const) {
      const err = await rejection(mint({ profile }, by));
      assert.equal(err.detailCode, "MISSING_SCOPE", `${profile}`);
      assert.equal(err.details?.missingScope, missing, `${profile}`);
    }
    const ok = await mint({ profile: "operator-limited" }, limitedMinter);
    assert.equal(ok.profile, "operator-limited");
    const bad = await rejection(mint({ profile: "everything" }));
    assert.equal(bad.detailCode, "INVALID_PARAMS");
    assert.equal((await rejection(mint({ ttlMs: 5 }))).detailCode, "INVALID_PARAMS");
  });
});

describe("setup-code failures are rate-limited per address (C17)", () => {
  it("10 wrong codes lock the address out, even for a valid code, with retryAfterMs; the valid code survives", async () => {
    const gw = await startTestGateway({ autoApproveLocal: false });
    try {
      const owner = new GatewayClient({ url: gw.url, identity: gw.owner, scopes: ["operator.admin"] });
      await owner.connect();
      const m = await owner.request<Minted>("device.pair.setupCode", { profile: "operator-limited" });
      await owner.close();
      const dev = generateIdentity();
      for (let i = 0; i < 10; i++) {
        const peer = await openPeer(gw.url);
        const res = await sendConnect(peer, {
          identity: dev,
          scopes: ["operator.read"],
          auth: { bootstrapToken: `WRNG-CODE-${"23456789AB"[i]}${"23456789AB"[i]}` },
        });
        assert.equal(res.error?.details?.code, "AUTH_BOOTSTRAP_TOKEN_INVALID", `try ${i}`);
        peer.ws.terminate();
      }
      const peer = await openPeer(gw.url);
      const res = await sendConnect(peer, {
        identity: dev,
        scopes: ["operator.read"],
        auth: { bootstrapToken: m.code },
      });
      assert.equal(res.ok, false);
      assert.equal(res.error?.details?.code, "AUTH_RATE_LIMITED");
      const retryAfterMs = (res.error as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 0;
      assert.ok(retryAfterMs > 250_000 && retryAfterMs <= 300_000, String(retryAfterMs));
      assert.equal(res.error?.details?.recommendedNextStep, "wait_then_retry");
      peer.ws.terminate();
      assert.equal(gw.store.setupCodes.lookup(normalizeSetupCode(m.code)!, Date.now()).kind, "valid");
      assert.equal(gw.store.devices.get(dev.deviceId), null);
      // Other credentials are not locked out by setup-code failures (their own budgets).
      const other = new GatewayClient({ url: gw.url, auth: { token: TEST_TOKEN }, scopes: [] });
      await other.connect();
      await other.close();
    } finally {
      await gw.stop();
    }
  });
});
