/**
 * wss:// with a pinned certificate (reference §1.1): the right fingerprint connects to a self-signed
 * gateway; a wrong one is refused during the TLS handshake, before the HTTP upgrade is even written
 * (so no connect frame, no secret, ever reaches the server); without a pin a self-signed
 * certificate is refused with its fingerprint so a person can compare and pin it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { WebSocketServer } from "ws";
import { GatewayClient, GatewayClientError } from "../../src/client/index.js";
import { loadOrCreateTls, type TlsMaterial } from "../../src/gateway/tls.js";
import { generateIdentity } from "../../src/identity/index.js";
import { formatFingerprint } from "../../src/protocol/setup-code.js";
import { startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";

async function rejection(p: Promise<unknown>): Promise<GatewayClientError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof GatewayClientError, `expected a GatewayClientError, got ${String(err)}`);
  return err;
}

const dirs: string[] = [];
async function material(): Promise<TlsMaterial> {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-tls-"));
  dirs.push(dir);
  return loadOrCreateTls({ stateDir: dir, autoGenerate: true, hosts: ["127.0.0.1"] });
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("wss:// to the gateway with a pinned certificate", () => {
  let tls: TlsMaterial;
  let gw: TestGateway;
  let url: string;
  before(async () => {
    tls = await material();
    gw = await startTestGateway({ tls: { cert: tls.cert, key: tls.key, fingerprint: tls.fingerprint } });
    url = gw.server.localUrl();
  });
  after(() => gw.stop());

  it("the gateway serves wss:// and reports its fingerprint in status", async () => {
    assert.match(url, /^wss:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(
      gw.server.urls().map((u) => u.slice(0, 6)),
      ["wss://"],
    );
    const client = new GatewayClient({
      url,
      tlsFingerprint: formatFingerprint(tls.fingerprint),
      identity: gw.owner,
      scopes: ["operator.read"],
    });
    try {
      await client.connect();
      const status = await client.request<{ gateway: { tlsFingerprint: string; urls: string[] } }>("status");
      assert.equal(status.gateway.tlsFingerprint, tls.fingerprint);
      assert.match(status.gateway.urls[0]!, /^wss:/);
    } finally {
      await client.close();
    }
  });

  it("the right pin (any spelling) connects; the session works", async () => {
    for (const pin of [tls.fingerprint, formatFingerprint(tls.fingerprint), tls.fingerprint.toUpperCase()]) {
      const client = new GatewayClient({ url, tlsFingerprint: pin, auth: { token: TEST_TOKEN }, scopes: [] });
      try {
        const hello = await client.connect();
        assert.equal(hello.type, "hello-ok");
      } finally {
        await client.close();
      }
    }
  });

  it("a wrong pin is refused with both fingerprints; the gateway recorded no connect at all", async () => {
    gw.server.pairing.flushAudit();
    const before = gw.store.audit.list({ limit: 1000 }).length;
    const wrong = "0".repeat(64);
    const client = new GatewayClient({
      url,
      tlsFingerprint: wrong,
      auth: { token: TEST_TOKEN },
      identity: generateIdentity(),
      scopes: ["operator.admin"],
    });
    const err = await rejection(client.connect());
    await client.close();
    assert.equal(err.code, "TLS_FINGERPRINT_MISMATCH");
    assert.equal(err.details?.presentedFingerprint, tls.fingerprint);
    assert.equal(err.details?.expectedFingerprint, wrong);
    assert.match(err.message, /nothing was sent/);
    assert.equal(err.message.includes(TEST_TOKEN), false);
    gw.server.pairing.flushAudit();
    assert.equal(gw.store.audit.list({ limit: 1000 }).length, before, "no connect decision was recorded");
    assert.equal(gw.server.openConnections().length, 0);
  });

  it("no pin: a self-signed certificate is refused as untrusted, showing its fingerprint", async () => {
    const client = new GatewayClient({ url, auth: { token: TEST_TOKEN }, scopes: [] });
    const err = await rejection(client.connect());
    await client.close();
    assert.equal(err.code, "TLS_UNTRUSTED");
    assert.equal(err.details?.presentedFingerprint, tls.fingerprint);
    assert.match(String(err.details?.authorizationError), /SELF_SIGNED/);
  });

  it("a pin is only for wss:// and must be a SHA-256 fingerprint", () => {
    assert.throws(
      () => new GatewayClient({ url: url.replace("wss:", "ws:"), tlsFingerprint: tls.fingerprint }),
      (e: unknown) =>
        e instanceof GatewayClientError && e.code === "INVALID_OPTIONS" && /wss:\/\//.test(e.message),
    );
    assert.throws(
      () => new GatewayClient({ url, tlsFingerprint: "abc" }),
      (e: unknown) => e instanceof GatewayClientError && e.code === "INVALID_OPTIONS",
    );
  });

  it("a setup code minted here carries the wss:// URL and the fingerprint", async () => {
    const owner = new GatewayClient({
      url,
      tlsFingerprint: tls.fingerprint,
      identity: gw.owner,
      scopes: ["operator.admin"],
    });
    try {
      await owner.connect();
      const m = await owner.request<{ url: string; fingerprint: string; link: string }>(
        "device.pair.setupCode",
        {
          profile: "node",
        },
      );
      assert.equal(m.fingerprint, tls.fingerprint);
      assert.match(m.url, /^wss:\/\//);
      assert.match(m.link, new RegExp(`fp=${tls.fingerprint}`));
    } finally {
      await owner.close();
    }
  });
});

describe("the pin is checked before the WebSocket upgrade is written", () => {
  it("an impostor server with another certificate sees a TLS handshake and nothing else", async () => {
    const real = await material();
    const impostor = await material();
    let tlsConnections = 0;
    let upgrades = 0;
    let messages = 0;
    const server = createServer({ cert: impostor.cert, key: impostor.key });
    server.on("connection", () => tlsConnections++);
    const wss = new WebSocketServer({ noServer: true });
    server.on("upgrade", (req, socket, head) => {
      upgrades++;
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.send(
          JSON.stringify({ type: "event", event: "connect.challenge", payload: { nonce: "n", ts: 1 } }),
        );
        ws.on("message", () => messages++);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const client = new GatewayClient({
        url: `wss://127.0.0.1:${port}`,
        tlsFingerprint: real.fingerprint,
        auth: { token: TEST_TOKEN },
        identity: generateIdentity(),
        scopes: [],
        connectTimeoutMs: 3000,
      });
      const err = await rejection(client.connect());
      await client.close();
      assert.equal(err.code, "TLS_FINGERPRINT_MISMATCH");
      assert.equal(err.details?.presentedFingerprint, impostor.fingerprint);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(tlsConnections, 1, "the client did connect (and ran the TLS handshake)");
      assert.equal(upgrades, 0, "no HTTP upgrade request was sent");
      assert.equal(messages, 0, "no frame (no connect, no secret) was sent");

      // Control: the same server pinned correctly gets the upgrade and the connect frame.
      const ok = new GatewayClient({
        url: `wss://127.0.0.1:${port}`,
        tlsFingerprint: impostor.fingerprint,
        auth: { token: TEST_TOKEN },
        scopes: [],
        connectTimeoutMs: 1000,
      });
      await ok.connect().catch(() => undefined);
      await ok.close();
      assert.equal(upgrades, 1);
      assert.equal(messages, 1);
    } finally {
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
