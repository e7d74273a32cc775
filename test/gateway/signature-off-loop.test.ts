/**
 * A connect whose signature is checked off the event loop (libuv's thread pool) is decided exactly
 * as one checked at once: the store's rows are read after the signature is known, a connection
 * that closes meanwhile leaves nothing behind, the handshake timer still applies, and frames sent
 * behind the connect wait for its answer. The checks are held by an injected {@link SignatureLanes}
 * that answers when the test says so.
 */
import assert from "node:assert/strict";
import type { KeyObject } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { generateIdentity, signPayload, verifyPayload } from "../../src/identity/keys.js";
import { adaptiveSignatureLanes, type SignatureLanes } from "../../src/gateway/signature-lane.js";
import { pairDevice, startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import { connectParams, openPeer, sendConnect, type Frame, type RawPeer } from "../helpers/raw-client.js";

/** Lanes whose every check waits until the test releases it, then answers as the real check does. */
function heldLanes() {
  const held: Array<() => void> = [];
  const arrivals: Array<() => void> = [];
  const lanes: SignatureLanes = {
    forConnect:
      () =>
      (key: KeyObject, payload: string, signature: string): Promise<boolean> =>
        new Promise((resolve) => {
          held.push(() => resolve(verifyPayload(key, payload, signature)));
          arrivals.shift()?.();
        }),
  };
  return {
    lanes,
    /** Waits for the next check to be held; returns what releases it. */
    async next(): Promise<() => void> {
      if (held.length === 0) await new Promise<void>((resolve) => arrivals.push(resolve));
      return held.shift()!;
    },
  };
}

let frameId = 0;
/** Sends a connect frame without waiting for its answer; returns its request id. */
function sendConnectFrame(peer: RawPeer, o: Parameters<typeof connectParams>[1]): string {
  const id = `held-${++frameId}`;
  peer.send({ type: "req", id, method: "connect", params: connectParams(peer.challenge.nonce, o) });
  return id;
}

/** Frames until one answers `id` (events in between are skipped). */
async function answerTo(peer: RawPeer, id: string): Promise<Frame> {
  for (;;) {
    const f = await peer.next();
    if (f.type === "res" && f.id === id) return f;
  }
}

describe("a connect whose signature is checked off the event loop", () => {
  let gw: TestGateway;
  const held = heldLanes();
  const opened: string[] = [];
  before(async () => {
    gw = await startTestGateway({ signatures: held.lanes, handshakeTimeoutMs: 2_000 });
    gw.server.on("session-open", (h) => opened.push(h.connId));
  });
  after(() => gw.stop());

  it("is admitted once the check answers, with the scopes its device holds", async () => {
    const { identity, token } = pairDevice(gw, ["operator.read"]);
    const peer = await openPeer(gw.url);
    const id = sendConnectFrame(peer, { identity, auth: { deviceToken: token }, scopes: ["operator.read"] });
    (await held.next())();
    const res = await answerTo(peer, id);
    assert.equal(res.ok, true, JSON.stringify(res.error));
    assert.deepEqual((res.payload as { auth: { scopes: string[] } }).auth.scopes, ["operator.read"]);
    peer.ws.close();
  });

  it("refuses a device removed while its signature was checked, and does not re-create it", async () => {
    const { identity, token } = pairDevice(gw, ["operator.read"]);
    const peer = await openPeer(gw.url);
    const id = sendConnectFrame(peer, { identity, auth: { deviceToken: token }, scopes: ["operator.read"] });
    const release = await held.next();
    assert.equal(gw.store.devices.remove(identity.deviceId), true);
    release();
    const res = await answerTo(peer, id);
    assert.equal(res.ok, false, "a removed device must not be admitted");
    assert.equal((await peer.closed).code, 1008);
    assert.equal(gw.store.devices.get(identity.deviceId), null);
  });

  it("refuses a device token revoked while the signature was checked", async () => {
    const { identity, token } = pairDevice(gw, ["operator.read"]);
    const peer = await openPeer(gw.url);
    const id = sendConnectFrame(peer, { identity, auth: { deviceToken: token }, scopes: ["operator.read"] });
    const release = await held.next();
    gw.store.tokens.revoke(identity.deviceId, "operator", Date.now());
    release();
    const res = await answerTo(peer, id);
    assert.equal(res.ok, false, "a revoked token must not admit");
    assert.equal((await peer.closed).code, 1008);
  });

  it("leaves nothing behind when the client closes while its signature is checked", async () => {
    // A new device from loopback with the shared secret: decided, it would be paired silently.
    const identity = generateIdentity();
    const sessions = opened.length;
    const peer = await openPeer(gw.url);
    sendConnectFrame(peer, { identity, auth: { token: TEST_TOKEN }, scopes: ["operator.read"] });
    const release = await held.next();
    peer.ws.close();
    await peer.closed;
    await sleep(200); // the gateway has seen the close by now (it answered it)
    release();
    await sleep(100);
    gw.server.pairing.flushAudit();
    assert.equal(gw.store.devices.get(identity.deviceId), null, "no device record");
    assert.equal(gw.store.pending.getByDevice(identity.deviceId, Date.now()), null, "no pending request");
    assert.deepEqual(gw.store.audit.list({ deviceId: identity.deviceId }), [], "no audit row");
    assert.equal(opened.length, sessions, "no session opened");
    assert.deepEqual(gw.server.openConnections(), [], "no connection held");
  });

  it("answers frames sent behind the connect after it: a second connect as a duplicate, a request as usual", async () => {
    const { identity, token } = pairDevice(gw, ["operator.read"]);
    const peer = await openPeer(gw.url);
    const first = sendConnectFrame(peer, {
      identity,
      auth: { deviceToken: token },
      scopes: ["operator.read"],
    });
    const second = sendConnectFrame(peer, {
      identity,
      auth: { deviceToken: token },
      scopes: ["operator.read"],
    });
    peer.send({ type: "req", id: "behind", method: "health" });
    (await held.next())();
    const frames: Frame[] = [];
    while (frames.length < 3) {
      const f = await peer.next();
      if (f.type === "res") frames.push(f);
    }
    assert.deepEqual(
      frames.map((f) => [f.id, f.ok, f.error?.details?.code ?? f.error?.code]),
      [
        [first, true, undefined],
        [second, false, "DUPLICATE_CONNECT"],
        ["behind", true, undefined],
      ],
    );
    assert.equal(frames[1]!.error?.message, "already connected");
    // The session stays usable, as after a duplicate connect decided at once.
    peer.send({ type: "req", id: "after", method: "health" });
    assert.equal((await answerTo(peer, "after")).ok, true);
    peer.ws.close();
  });

  it("closes a connection that sends more than 8 frames behind its connect, and admits nothing", async () => {
    const { identity, token } = pairDevice(gw, ["operator.read"]);
    const sessions = opened.length;
    const peer = await openPeer(gw.url);
    sendConnectFrame(peer, { identity, auth: { deviceToken: token }, scopes: ["operator.read"] });
    for (let i = 0; i < 9; i++) peer.send({ type: "req", id: `flood-${i}`, method: "health" });
    const release = await held.next();
    assert.deepEqual(await peer.closed, { code: 1008, reason: "too many frames before hello-ok" });
    release();
    await sleep(100);
    assert.equal(opened.length, sessions, "no session opened");
  });
});

describe("the handshake timer while a signature is checked off the event loop", () => {
  it("closes the connection at the timeout, and the late answer admits nothing and writes nothing", async () => {
    const held = heldLanes();
    const gw = await startTestGateway({ signatures: held.lanes, handshakeTimeoutMs: 300 });
    try {
      const identity = generateIdentity();
      let opened = 0;
      gw.server.on("session-open", () => opened++);
      const peer = await openPeer(gw.url);
      sendConnectFrame(peer, { identity, auth: { token: TEST_TOKEN }, scopes: ["operator.read"] });
      const release = await held.next();
      assert.equal((await peer.closed).code, 1000);
      release();
      await sleep(100);
      gw.server.pairing.flushAudit();
      assert.equal(opened, 0);
      assert.equal(gw.store.devices.get(identity.deviceId), null);
      assert.deepEqual(gw.store.audit.list({ deviceId: identity.deviceId }), []);
    } finally {
      await gw.stop();
    }
  });
});

describe("the connections the lanes count as waiting for their connect", () => {
  it("each leaves the count once, however it ends: admitted, refused, closed by its client, timed out", async () => {
    const lanes = adaptiveSignatureLanes();
    let waiting = 0;
    let lowest = 0;
    const seen: string[] = [];
    const counting: SignatureLanes = {
      forConnect() {
        const check = lanes.forConnect();
        let first = true; // a refused v3 is asked again as v2, on the same lane
        return (key, payload, signature) => {
          const answer = check(key, payload, signature);
          if (first) seen.push(answer instanceof Promise ? "pool" : "inline");
          first = false;
          return answer;
        };
      },
      challenged() {
        waiting++;
        lanes.challenged!();
      },
      settled() {
        lowest = Math.min(lowest, --waiting);
        lanes.settled!();
      },
    };
    const gw = await startTestGateway({ signatures: counting, handshakeTimeoutMs: 1_500 });
    try {
      const { identity, token } = pairDevice(gw, ["operator.read"]);
      const good = { identity, auth: { deviceToken: token }, scopes: ["operator.read"] };
      const timedOut = await openPeer(gw.url);
      const closedEarly = await openPeer(gw.url);
      const admitted = await openPeer(gw.url);
      assert.equal((await sendConnect(admitted, good)).ok, true);
      const refused = await openPeer(gw.url);
      const forged = { device: { signature: signPayload(generateIdentity(), "another payload") } };
      assert.equal((await sendConnect(refused, { ...good, ...forged })).ok, false);
      closedEarly.ws.close();
      await closedEarly.closed;
      assert.equal((await timedOut.closed).code, 1000);
      await refused.closed;
      assert.deepEqual(seen, ["pool", "pool"], "others waited for their connect meanwhile");
      admitted.ws.close();
      await admitted.closed;
      await sleep(50);
      assert.equal(waiting, 0, "every challenged connection was settled");
      assert.equal(lowest, 0, "none was settled twice");
      const alone = await openPeer(gw.url);
      assert.equal((await sendConnect(alone, good)).ok, true);
      assert.equal(seen.at(-1), "inline", "a lone connect is checked at once again");
      alone.ws.close();
    } finally {
      await gw.stop();
    }
  });
});

describe("many connects at once on the default lanes", () => {
  it("each gets its own answer, some checked on the thread pool", async () => {
    const lanes = adaptiveSignatureLanes();
    const seen = { inline: 0, pool: 0 };
    const counting: SignatureLanes = {
      forConnect() {
        const check = lanes.forConnect();
        return (key, payload, signature) => {
          const answer = check(key, payload, signature);
          seen[answer instanceof Promise ? "pool" : "inline"]++;
          return answer;
        };
      },
    };
    const gw = await startTestGateway({ signatures: counting });
    try {
      const scopeSets = [["operator.read"], ["operator.write"], ["operator.read", "operator.pairing"]];
      const clients = await Promise.all(
        Array.from({ length: 24 }, async (_, i) => {
          const scopes = scopeSets[i % 3]!;
          const { identity, token } = pairDevice(gw, scopes);
          const forged = i % 4 === 3; // signed by another key: refused whatever the pool answers
          return { i, scopes, identity, token, forged, peer: await openPeer(gw.url) };
        }),
      );
      // Sent in one go: the gateway's loop finds them all ready in one turn.
      const answers = await Promise.all(
        clients.map(({ peer, identity, token, scopes, forged }) =>
          sendConnect(peer, {
            identity,
            auth: { deviceToken: token },
            scopes,
            ...(forged
              ? { device: { signature: signPayload(generateIdentity(), "not this connect's payload") } }
              : {}),
          }),
        ),
      );
      for (const [n, res] of answers.entries()) {
        const c = clients[n]!;
        if (c.forged) {
          assert.equal(res.ok, false, `client ${c.i}`);
          assert.equal(res.error?.details?.code, "DEVICE_AUTH_SIGNATURE_INVALID", `client ${c.i}`);
        } else {
          assert.equal(res.ok, true, `client ${c.i}: ${JSON.stringify(res.error)}`);
          assert.deepEqual((res.payload as { auth: { scopes: string[] } }).auth.scopes, c.scopes);
        }
      }
      assert.ok(seen.inline >= 1 && seen.pool >= 1, JSON.stringify(seen));
      for (const c of clients) c.peer.ws.close();
    } finally {
      await gw.stop();
    }
  });
});
