/**
 * The gateway's own WebSocket at its edges: malformed upgrades are refused with `ws`'s statuses
 * (after the gateway's Origin/Host checks, which still come first), a first frame sent with the
 * upgrade request is read, and a client that breaks the framing before hello is closed with the
 * RFC's code while the gateway goes on admitting others.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import { call, connectParams, openPeer, sendConnect } from "../helpers/raw-client.js";
import { clientFrame, RawClient } from "../websocket/raw-ws-client.js";

let gw: TestGateway;
before(async () => {
  gw = await startTestGateway();
});
after(() => gw.stop());

// Each case twice: read by the gateway's own intake (one read holds the whole head) and by Node's
// parser (the head arrives in two parts); both must end the same.
const PATHS = [
  ["", false],
  [" (head in two parts: Node's parser)", true],
] as const;

describe("upgrade requests the gateway refuses", () => {
  const cases: Array<[string, Parameters<typeof RawClient.open>[1], number]> = [
    ["a POST", { method: "POST" }, 405],
    ["a key that is not 16 bytes", { headers: { "Sec-WebSocket-Key": "c2hvcnQ=" } }, 400],
    ["version 8", { headers: { "Sec-WebSocket-Version": "8" } }, 400],
    ["Upgrade: h2c", { headers: { Upgrade: "h2c" } }, 400],
    ["a browser Origin that is not allowed", { headers: { Origin: "https://evil.example" } }, 403],
    [
      "a Host that is not the gateway's, from a browser",
      { headers: { Origin: "http://127.0.0.1", Host: "evil.example" } },
      403,
    ],
  ];
  for (const [path, split] of PATHS)
    for (const [name, opts, status] of cases) {
      it(`${name}${path}: HTTP ${status}, connection closed, nothing held`, async () => {
        const c = await RawClient.open(gw.server.port, { ...opts, split });
        assert.equal(c.status, status, c.head);
        assert.equal(c.header("connection"), "close");
        await c.body();
        assert.equal(gw.server.openConnections().length, 0);
      });
    }

  it("a browser Origin that is not allowed is refused 403 before the request's framing is judged", async () => {
    const c = await RawClient.open(gw.server.port, {
      headers: { Origin: "https://evil.example", "Sec-WebSocket-Version": "8" },
    });
    assert.equal(c.status, 403, c.head);
    await c.body();
  });
});

describe("frames at the gateway", () => {
  for (const [path, split] of PATHS)
    it(`reads a connect sent in the same write as the upgrade (after its challenge)${path}`, async () => {
      // The nonce is unknown before the challenge: a device-less connect with the token needs none.
      const connect = JSON.stringify({
        type: "req",
        id: "early",
        method: "connect",
        params: connectParams("", { auth: { token: TEST_TOKEN }, scopes: ["operator.read"] }),
      });
      const c = await RawClient.open(gw.server.port, { after: clientFrame({ payload: connect }), split });
      assert.equal(c.status, 101, c.head);
      const challenge = JSON.parse((await c.nextFrame())!.payload.toString()) as { event: string };
      assert.equal(challenge.event, "connect.challenge");
      const hello = JSON.parse((await c.nextFrame())!.payload.toString()) as { id: string; ok: boolean };
      assert.equal(hello.id, "early");
      assert.equal(hello.ok, true, JSON.stringify(hello));
      c.socket.destroy();
    });

  it("an unmasked frame before hello closes 1002; the gateway admits the next client", async () => {
    const c = await RawClient.open(gw.server.port);
    assert.equal(c.status, 101);
    await c.nextFrame(); // the challenge
    c.write(clientFrame({ payload: "{}", mask: false }));
    const close = await c.nextClose();
    assert.equal(close?.code, 1002);
    await c.closed;
    const peer = await openPeer(gw.url);
    await sendConnect(peer, { auth: { token: TEST_TOKEN }, scopes: ["operator.read"] });
    assert.equal((await call(peer, "health")).ok, true);
    peer.ws.close();
  });

  it("a ping before hello is answered with a pong", async () => {
    const c = await RawClient.open(gw.server.port);
    await c.nextFrame(); // the challenge
    c.write(clientFrame({ opcode: 9, payload: "still there?" }));
    const pong = await c.nextFrame();
    assert.equal(pong?.opcode, 10);
    assert.equal(pong?.payload.toString(), "still there?");
    c.socket.destroy();
  });
});
