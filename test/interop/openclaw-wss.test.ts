/**
 * `gatehouse/client` against the real OpenClaw 2026.9.6 gateway serving wss:// (its
 * `gateway.tls` with a certificate made here): the pinned certificate connects and the session
 * works; another pin is refused before the upgrade. The client's WebSocket transport is its own
 * (not `ws`), so this is where its TLS path meets a gateway it was not written against.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GatewayClient, GatewayClientError } from "../../src/client/index.js";
import { loadOrCreateTls } from "../../src/gateway/tls.js";
import {
  cleanupOpenClawLocks,
  openClawLocks,
  openClawPeer,
  startOpenClawGateway,
  type OpenClawGateway,
} from "../helpers/openclaw-peer.js";

const TOKEN = "interop-wss-token-0123456789abcdefghijklmnopqr";

describe("gatehouse/client → OpenClaw over wss://", () => {
  let locksBefore: ReturnType<typeof openClawLocks> | undefined;
  let oc: OpenClawGateway | undefined;
  let dir: string;
  let fingerprint: string;

  before(async () => {
    const peer = await openClawPeer();
    locksBefore = openClawLocks();
    dir = mkdtempSync(join(tmpdir(), "gatehouse-interop-wss-"));
    const tls = await loadOrCreateTls({ stateDir: dir, autoGenerate: true, hosts: ["127.0.0.1"] });
    fingerprint = tls.fingerprint;
    oc = await startOpenClawGateway(peer, TOKEN, {
      tls: { certPath: tls.certPath, keyPath: tls.keyPath, fingerprint },
    });
  });

  after(async () => {
    await oc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (locksBefore) cleanupOpenClawLocks(locksBefore);
  });

  it("the pinned certificate (any spelling) connects and health answers", async () => {
    assert.ok(oc);
    assert.match(oc.url, /^wss:\/\//);
    const client = new GatewayClient({
      url: oc.url,
      auth: { token: TOKEN },
      client: { id: "cli", mode: "cli" },
      scopes: ["operator.read"],
      tlsFingerprint: fingerprint.toUpperCase(),
    });
    try {
      await client.connect();
      assert.equal((await client.request<{ ok: boolean }>("health")).ok, true);
    } finally {
      await client.close();
    }
  });

  it("another pin is refused before the upgrade, naming both fingerprints", async () => {
    assert.ok(oc);
    const wrong = "ab".repeat(32);
    const client = new GatewayClient({ url: oc.url, auth: { token: TOKEN }, tlsFingerprint: wrong });
    const err = await client.connect().catch((e: unknown) => e);
    await client.close();
    assert.ok(err instanceof GatewayClientError);
    assert.equal(err.code, "TLS_FINGERPRINT_MISMATCH");
    assert.equal(err.details?.presentedFingerprint, fingerprint);
    assert.equal(err.details?.expectedFingerprint, wrong);
  });
});
