/**
 * The client's own WebSocket transport against servers written byte by byte: what a correct one
 * may do (fragments, control frames between them, every length form, the close handshake) and
 * what a broken one does (a wrong accept, masked or reserved-bit frames, bad UTF-8, oversize
 * messages), seen as a user of the client sees it — and against the real `ws` server.
 */
import { strict as assert } from "node:assert";
import type { AddressInfo } from "node:net";
import { describe, it, test, type TestContext } from "node:test";
import { WebSocketServer, type WebSocket } from "ws";
import { GatewayClient, GatewayClientError, type CloseInfo } from "../../src/client/index.js";
import { ClientWebSocket } from "../../src/client/websocket.js";
import { helloOk, waitFor } from "./fake-gateway.js";
import { closeBody, RawWsServer, serverFrame, type RawPeer } from "./raw-ws-server.js";

/** A transport that never reports its close fails the test instead of hanging the run. */
const HANG = { timeout: 60_000 };

/** Plays the gateway's handshake on a raw peer: challenge, read connect, hello-ok. */
async function gatewayHandshake(peer: RawPeer): Promise<void> {
  await peer.accept();
  peer.sendJson({ type: "event", event: "connect.challenge", payload: { nonce: "n-1", ts: Date.now() } });
  const connect = await peer.nextJson();
  peer.sendJson({ type: "res", id: connect.id, ok: true, payload: helloOk() });
}

/**
 * A GatewayClient connected to a raw server that plays `serve` for it (stopped after the test), and
 * the one close the client then reports (`oneClose` fails unless exactly one arrives in 2 s).
 */
async function connectThrough(t: TestContext, serve: (peer: RawPeer) => Promise<void>) {
  const server = await RawWsServer.start(serve);
  t.after(() => server.stop());
  const client = new GatewayClient({ url: server.url });
  const closes: CloseInfo[] = [];
  client.on("close", (c) => closes.push(c));
  await client.connect();
  return {
    client,
    async oneClose(): Promise<CloseInfo> {
      await waitFor(() => closes.length === 1, 2000, "close event");
      return closes[0]!;
    },
  };
}

/** Everything a transport reported, in order. */
function recorder() {
  const events: Array<{ kind: string; data?: string | Buffer; code?: number; reason?: string; err?: Error }> =
    [];
  let resolveClosed!: (c: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => (resolveClosed = r));
  return {
    events,
    closed,
    handlers: {
      onOpen: () => events.push({ kind: "open" }),
      onMessage: (data: string | Buffer) => events.push({ kind: "message", data }),
      onError: (err: Error) => events.push({ kind: "error", err }),
      onClose: (code: number, reason: string) => {
        events.push({ kind: "close", code, reason });
        resolveClosed({ code, reason });
      },
    },
    messages: () => events.filter((e) => e.kind === "message").map((e) => e.data),
    error: () => events.find((e) => e.kind === "error")?.err,
  };
}

function open(url: string, handlers: ReturnType<typeof recorder>["handlers"], maxPayload?: number) {
  return new ClientWebSocket(
    { url: new URL(url), tlsTimeoutMs: 2000, ...(maxPayload ? { maxPayload } : {}) },
    handlers,
  );
}

describe("a correct server", HANG, () => {
  it("a message in three fragments with a ping between them arrives whole; the ping is answered with its payload", async (t) => {
    let pong: Buffer | undefined;
    const server = await RawWsServer.start(async (peer) => {
      await peer.accept();
      peer.socket.write(serverFrame({ opcode: 1, fin: false, payload: "hel" }));
      peer.socket.write(serverFrame({ opcode: 9, payload: "are you there" }));
      peer.socket.write(serverFrame({ opcode: 0, fin: false, payload: "lo, wor" }));
      // The last fragment split across two TCP writes, mid-header.
      const last = serverFrame({ opcode: 0, fin: true, payload: "ld ✓" });
      peer.socket.write(last.subarray(0, 1));
      setTimeout(() => peer.socket.write(last.subarray(1)), 20);
      const frame = await peer.nextFrame();
      pong = frame?.opcode === 0xa ? frame.payload : undefined;
    });
    t.after(() => server.stop());
    const rec = recorder();
    const ws = open(server.url, rec.handlers);
    await waitFor(() => rec.messages().length === 1 && pong !== undefined, 2000, "message and pong");
    assert.deepEqual(rec.messages(), ["hello, world ✓"]);
    assert.equal(pong!.toString(), "are you there");
    ws.terminate();
    await rec.closed;
  });

  it("7-, 16- and 64-bit lengths at every boundary arrive intact, and a 16-bit form for a short payload is accepted", async (t) => {
    const sizes = [0, 125, 126, 65535, 65536, 70000];
    const server = await RawWsServer.start(async (peer) => {
      await peer.accept();
      for (const n of sizes) peer.socket.write(serverFrame({ payload: "x".repeat(n) }));
      peer.socket.write(serverFrame({ payload: "short", lengthForm: 64 }));
    });
    t.after(() => server.stop());
    const rec = recorder();
    const ws = open(server.url, rec.handlers);
    await waitFor(() => rec.messages().length === sizes.length + 1, 3000, "every message");
    assert.deepEqual(
      rec.messages().map((m) => (m as string).length),
      [...sizes, 5],
    );
    ws.terminate();
  });

  it("every upgrade carries its own 16-byte key, and masks stay unique around it", async (t) => {
    const keys: string[] = [];
    const masks: string[] = [];
    const raw = await RawWsServer.start(async (peer) => {
      keys.push((await peer.accept()).get("sec-websocket-key") ?? "");
      const f = await peer.nextFrame();
      if (f) masks.push(f.mask.toString("base64"));
    });
    t.after(() => raw.stop());
    // Enough connects (16 + 4 random bytes each) to cross a refill of the 4 KiB pool.
    for (let i = 0; i < 210; i++) {
      const rec = recorder();
      const ws = open(raw.url, rec.handlers);
      await waitFor(() => rec.events.some((e) => e.kind === "open"), 2000, "open");
      ws.send("x");
      await waitFor(() => masks.length === i + 1, 2000, "a frame");
      ws.terminate();
      await rec.closed;
    }
    assert.ok(
      keys.every(
        (k) => Buffer.from(k, "base64").length === 16 && Buffer.from(k, "base64").toString("base64") === k,
      ),
      "a key is not 16 bytes in base64",
    );
    assert.equal(new Set(keys).size, keys.length, "keys repeat");
    assert.equal(new Set(masks).size, masks.length, "masks repeat");
  });

  it("every client frame is masked with its own mask; the real ws server decodes every length form", async (t) => {
    const masks: string[] = [];
    const raw = await RawWsServer.start(async (peer) => {
      await peer.accept();
      for (let i = 0; i < 3; i++) {
        const f = await peer.nextFrame();
        assert.ok(f?.masked, "client frame not masked");
        masks.push(f.mask.toString("hex"));
      }
    });
    t.after(() => raw.stop());
    const rec = recorder();
    const ws = open(raw.url, rec.handlers);
    await waitFor(() => rec.events.some((e) => e.kind === "open"), 2000, "open");
    for (const m of ["a", "b", "c"]) ws.send(m);
    await waitFor(() => masks.length === 3, 2000, "three frames");
    assert.equal(new Set(masks).size, 3, "masks repeat");
    ws.terminate();

    // Echo through ws: what it decodes is what was sent, at each length form.
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((r) => wss.once("listening", r));
    wss.on("connection", (s) => s.on("message", (d, binary) => s.send(d, { binary })));
    t.after(() => new Promise((r) => wss.close(r)));
    const echo = recorder();
    const client = open(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, echo.handlers);
    await waitFor(() => echo.events.some((e) => e.kind === "open"), 2000, "open");
    const sent = [0, 125, 126, 65535, 65536, 200_000].map((n, i) => `${i}`.padEnd(n, "é"));
    for (const s of sent) client.send(s);
    await waitFor(() => echo.messages().length === sent.length, 5000, "echoes");
    assert.deepEqual(echo.messages(), sent);
    client.close(1000, "done");
    assert.deepEqual(await echo.closed, { code: 1000, reason: "done" });
  });

  it("a close from the server is echoed with its code; the client reports the server's code and reason", async (t) => {
    let echoed: { code: number; reason: string } | undefined;
    const { client, oneClose } = await connectThrough(t, async (peer) => {
      await gatewayHandshake(peer);
      peer.socket.write(serverFrame({ opcode: 8, payload: closeBody(4001, "device token revoked") }));
      const f = await peer.nextFrame();
      if (f?.opcode === 8)
        echoed = { code: f.payload.readUInt16BE(0), reason: f.payload.toString("utf8", 2) };
      peer.socket.end();
    });
    assert.deepEqual(await oneClose(), { code: 4001, reason: "device token revoked" });
    assert.deepEqual(echoed, { code: 4001, reason: "" });
    await client.close();
  });

  it("a server that drops the connection without a close frame is reported as 1006", async (t) => {
    const { client, oneClose } = await connectThrough(t, async (peer) => {
      await gatewayHandshake(peer);
      peer.socket.destroy();
    });
    assert.deepEqual(await oneClose(), { code: 1006, reason: "" });
    await client.close();
  });
});

/** A server that answers the upgrade with `response` (a whole HTTP head) and records what follows. */
async function badUpgrade(response: string) {
  const server = await RawWsServer.start(async (peer) => {
    await peer.readRequest();
    peer.socket.write(response);
  });
  const client = new GatewayClient({ url: server.url, auth: { token: "never-sent-secret" } });
  const err = await client.connect().catch((e: unknown) => e);
  await client.close();
  await server.peers[0]!.closed;
  const unread = server.peers[0]!.unread;
  await server.stop();
  assert.ok(err instanceof GatewayClientError);
  return { err, unread };
}

describe(
  "a server that answers the upgrade wrongly: CONNECT_FAILED saying what was wrong, nothing sent after the request",
  HANG,
  () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        "a refusal",
        "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
        /refused the upgrade: HTTP 403 Forbidden$/,
      ],
      [
        "a wrong accept",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
        /Sec-WebSocket-Accept does not match the key sent$/,
      ],
      [
        "no accept",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        /lacks Sec-WebSocket-Accept$/,
      ],
      [
        "no Upgrade header",
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n",
        /lacks Upgrade: websocket$/,
      ],
      ["not HTTP", "SSH-2.0-OpenSSH_9.6\r\n\r\n", /not an HTTP\/1\.1 status line$/],
    ];
    for (const [what, response, message] of cases) {
      it(what, async () => {
        const { err, unread } = await badUpgrade(response);
        assert.equal(err.code, "CONNECT_FAILED");
        assert.match(err.message, /^cannot connect to gateway at 127\.0\.0\.1:\d+: /);
        assert.match(err.message, message);
        assert.equal(unread, 0, "the client wrote after a bad upgrade answer");
      });
    }

    it("an extension or subprotocol the client never offered", async () => {
      const server = await RawWsServer.start(async (peer) => {
        await peer.accept(["Sec-WebSocket-Extensions: permessage-deflate"]);
      });
      const client = new GatewayClient({ url: server.url });
      const err = await client.connect().catch((e: unknown) => e);
      await client.close();
      await server.stop();
      assert.ok(err instanceof GatewayClientError);
      assert.match(err.message, /chose a WebSocket extension the client did not offer$/);
    });

    it("a connection closed before any answer", async () => {
      const server = await RawWsServer.start(async (peer) => {
        await peer.readRequest();
        peer.socket.destroy();
      });
      const client = new GatewayClient({ url: server.url });
      const err = await client.connect().catch((e: unknown) => e);
      await client.close();
      await server.stop();
      assert.ok(err instanceof GatewayClientError);
      assert.equal(err.code, "CONNECT_FAILED");
      assert.match(err.message, /closed the connection before answering the upgrade$/);
    });
  },
);

describe(
  "a server that breaks the framing: the client fails the connection with the matching close code and says why",
  HANG,
  () => {
    const cases: Array<[string, Buffer, number, string]> = [
      [
        "a masked frame",
        serverFrame({ mask: true, payload: "{}" }),
        1002,
        "the server masked a frame (servers must not)",
      ],
      [
        "reserved bits",
        serverFrame({ rsv: 4, payload: "{}" }),
        1002,
        "a frame has reserved bits set, but no extension was negotiated",
      ],
      ["an unknown opcode", serverFrame({ opcode: 3 }), 1002, "invalid opcode 3"],
      ["an unknown control opcode", serverFrame({ opcode: 0xb }), 1002, "invalid opcode 11"],
      [
        "a ping over 125 bytes",
        serverFrame({ opcode: 9, payload: "p".repeat(126) }),
        1002,
        "a control frame carries 126 bytes (at most 125)",
      ],
      ["a fragmented ping", serverFrame({ opcode: 9, fin: false }), 1002, "a control frame is fragmented"],
      [
        "a continuation of nothing",
        serverFrame({ opcode: 0 }),
        1002,
        "a continuation frame arrived with no message to continue",
      ],
      [
        "a new message inside a fragmented one",
        Buffer.concat([serverFrame({ fin: false, payload: "a" }), serverFrame({ payload: "b" })]),
        1002,
        "a new message began before the fragmented one ended",
      ],
      [
        "a close with a 1-byte payload",
        serverFrame({ opcode: 8, payload: Buffer.from([3]) }),
        1002,
        "a close frame carries a 1-byte payload (a code takes 2)",
      ],
      [
        "a close with reserved code 1005",
        serverFrame({ opcode: 8, payload: closeBody(1005) }),
        1002,
        "invalid close code 1005",
      ],
      [
        "a text message that is not UTF-8",
        serverFrame({ payload: Buffer.from([0x7b, 0xff, 0x7d]) }),
        1007,
        "a text message is not valid UTF-8",
      ],
      [
        "a close reason that is not UTF-8",
        serverFrame({ opcode: 8, payload: Buffer.concat([closeBody(1000), Buffer.from([0xc3])]) }),
        1007,
        "a close reason is not valid UTF-8",
      ],
    ];
    for (const [what, bad, code, reason] of cases) {
      it(what, async (t) => {
        let sent: { code: number; reason: string } | null = null;
        const { client, oneClose } = await connectThrough(t, async (peer) => {
          await gatewayHandshake(peer);
          // Only once the client sends its request: written right after the hello, the bad frame
          // could arrive in the hello's read (a loaded machine) and fail the connect itself, which
          // the "during the handshake" test below covers.
          const request = await peer.nextFrame();
          if (!request) return;
          peer.socket.write(bad);
          for (;;) {
            const f = await peer.nextFrame();
            if (!f) return;
            if (f.opcode === 8) {
              sent = { code: f.payload.readUInt16BE(0), reason: f.payload.toString("utf8", 2) };
              peer.socket.end();
            }
          }
        });
        const pending = client.request("health").catch((e: unknown) => e);
        assert.deepEqual(await oneClose(), { code, reason });
        assert.deepEqual(sent, { code, reason }, "the close frame the server received");
        const err = await pending;
        assert.ok(err instanceof GatewayClientError);
        assert.equal(err.code, "CONNECTION_CLOSED");
        assert.equal(err.message, `health aborted: connection closed (${code})`);
        await client.close();
      });
    }

    it("during the handshake the error names the violation", async (t) => {
      const server = await RawWsServer.start(async (peer) => {
        await peer.accept();
        peer.socket.write(serverFrame({ mask: true, payload: "{}" }));
      });
      t.after(() => server.stop());
      const client = new GatewayClient({ url: server.url });
      const err = await client.connect().catch((e: unknown) => e);
      await client.close();
      assert.ok(err instanceof GatewayClientError);
      assert.equal(err.code, "CONNECT_FAILED");
      assert.match(
        err.message,
        /^gateway at 127\.0\.0\.1:\d+ broke the WebSocket protocol during the handshake: the server masked a frame/,
      );
      assert.equal(err.closeCode, 1002);
    });
  },
);

test(
  "a message over the client's limit closes with 1009, even before it has all arrived",
  HANG,
  async (t) => {
    const server = await RawWsServer.start(async (peer) => {
      await peer.accept();
      // Announces 10,000 bytes, sends 10: the limit is judged on the header.
      peer.socket.write(serverFrame({ payload: "y".repeat(10_000) }).subarray(0, 14));
    });
    t.after(() => server.stop());
    const rec = recorder();
    open(server.url, rec.handlers, 1000);
    assert.deepEqual(await rec.closed, {
      code: 1009,
      reason: "a message of more than 1000 bytes (the client's limit) arrived",
    });
    assert.equal(rec.messages().length, 0);
  },
);

test(
  "header names or values that could split the upgrade request are refused before connecting",
  HANG,
  async (t) => {
    const server = await RawWsServer.start(() => undefined);
    t.after(() => server.stop());
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ "X-A": "ok\r\nEvil: 1" }, /: invalid characters in the value of header X-A$/],
      [{ "Bad Name": "v" }, /: invalid header name "Bad Name"$/],
    ];
    for (const [headers, message] of cases) {
      const client = new GatewayClient({ url: server.url, headers });
      const err = await client.connect().catch((e: unknown) => e);
      assert.ok(err instanceof GatewayClientError);
      assert.equal(err.code, "CONNECT_FAILED");
      assert.match(err.message, message);
      await client.close();
    }
    assert.equal(server.peers.length, 0, "a connection was opened");
  },
);

/**
 * A real `ws` server (the reference implementation) plays `serve` for each client; resolves with
 * its URL and, per connection, the close code and reason the server saw.
 */
async function wsPeer(t: TestContext, serve: (socket: WebSocket) => void) {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((r) => wss.once("listening", r));
  t.after(() => {
    // A failed test may leave a connection open; ws's close would wait for it.
    for (const client of wss.clients) client.terminate();
    return new Promise((r) => wss.close(r));
  });
  let resolveSeen!: (c: { code: number; reason: string }) => void;
  const serverSaw = new Promise<{ code: number; reason: string }>((r) => (resolveSeen = r));
  wss.on("connection", (socket) => {
    socket.on("close", (code, reason) => resolveSeen({ code, reason: reason.toString() }));
    serve(socket);
  });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, serverSaw };
}

describe("against the real ws server", HANG, () => {
  it("a message ws sends in fragments, with a ping between them, arrives whole; ws gets the pong's payload", async (t) => {
    let pong: string | undefined;
    const { url } = await wsPeer(t, (s) => {
      s.on("pong", (data) => (pong = data.toString()));
      s.send("hel", { fin: false });
      s.ping("are you there");
      s.send("lo, wor", { fin: false });
      s.send("ld ✓", { fin: true });
      s.send(Buffer.from([0, 1, 2]), { binary: true });
    });
    const rec = recorder();
    const ws = open(url, rec.handlers);
    await waitFor(() => rec.messages().length === 2 && pong !== undefined, 2000, "messages and pong");
    assert.deepEqual(rec.messages(), ["hello, world ✓", Buffer.from([0, 1, 2])]);
    assert.equal(pong, "are you there");
    ws.close();
    assert.deepEqual(await rec.closed, { code: 1000, reason: "" });
  });

  it("ws's close code and reason reach the client; ws receives its code echoed", async (t) => {
    const { url, serverSaw } = await wsPeer(t, (s) => s.close(4001, "device token revoked"));
    const rec = recorder();
    open(url, rec.handlers);
    assert.deepEqual(await rec.closed, { code: 4001, reason: "device token revoked" });
    assert.deepEqual(await serverSaw, { code: 4001, reason: "" });
    assert.equal(rec.error(), undefined);
  });

  it("the client's close code and reason reach ws, and the client reports ws's echo", async (t) => {
    const { url, serverSaw } = await wsPeer(t, () => undefined);
    const rec = recorder();
    const ws = open(url, rec.handlers);
    await waitFor(() => rec.events.some((e) => e.kind === "open"), 2000, "open");
    ws.close(4000, "bye ✓");
    assert.equal(ws.readyState, "closing");
    assert.deepEqual(await serverSaw, { code: 4000, reason: "bye ✓" });
    assert.deepEqual(await rec.closed, { code: 4000, reason: "bye ✓" });
  });

  it("a message over the client's limit: ws is closed with 1009 and the reason", async (t) => {
    const { url, serverSaw } = await wsPeer(t, (s) => s.send("z".repeat(1001)));
    const rec = recorder();
    open(url, rec.handlers, 1000);
    const reason = "a message of more than 1000 bytes (the client's limit) arrived";
    assert.deepEqual(await rec.closed, { code: 1009, reason });
    assert.deepEqual(await serverSaw, { code: 1009, reason });
    assert.equal((rec.error() as { code?: string } | undefined)?.code, "MESSAGE_TOO_BIG");
    assert.equal(rec.messages().length, 0);
  });

  it("a message exactly at the limit, in fragments, is accepted", async (t) => {
    const { url } = await wsPeer(t, (s) => {
      s.send("a".repeat(600), { fin: false });
      s.send("b".repeat(400), { fin: true });
    });
    const rec = recorder();
    const ws = open(url, rec.handlers, 1000);
    await waitFor(() => rec.messages().length === 1, 2000, "the message");
    assert.equal(rec.messages()[0], "a".repeat(600) + "b".repeat(400));
    ws.terminate();
    await rec.closed;
  });

  it("fragments that add up to more than the limit: ws is closed with 1009", async (t) => {
    const { url, serverSaw } = await wsPeer(t, (s) => {
      s.send("a".repeat(600), { fin: false });
      s.send("b".repeat(401), { fin: true });
    });
    const rec = recorder();
    open(url, rec.handlers, 1000);
    assert.equal((await rec.closed).code, 1009);
    assert.equal((await serverSaw).code, 1009);
    assert.equal(rec.messages().length, 0);
  });

  it("a text message that is not UTF-8 (ws sends bytes as text unchecked): ws is closed with 1007", async (t) => {
    const { url, serverSaw } = await wsPeer(t, (s) =>
      s.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false }),
    );
    const rec = recorder();
    open(url, rec.handlers);
    const reason = "a text message is not valid UTF-8";
    assert.deepEqual(await rec.closed, { code: 1007, reason });
    assert.deepEqual(await serverSaw, { code: 1007, reason });
  });

  it("ws cutting the connection without a close frame is 1006", async (t) => {
    const { url } = await wsPeer(t, (s) => s.terminate());
    const rec = recorder();
    open(url, rec.handlers);
    assert.deepEqual(await rec.closed, { code: 1006, reason: "" });
  });

  it("a ws server that refuses the upgrade: UPGRADE_REFUSED with its status, close 1006", async (t) => {
    const wss = new WebSocketServer({
      host: "127.0.0.1",
      port: 0,
      verifyClient: (_info, cb) => cb(false, 401, "Unauthorized"),
    });
    await new Promise((r) => wss.once("listening", r));
    t.after(() => new Promise((r) => wss.close(r)));
    const rec = recorder();
    open(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, rec.handlers);
    assert.deepEqual(await rec.closed, {
      code: 1006,
      reason: "the server refused the upgrade: HTTP 401 Unauthorized",
    });
    const err = rec.error() as { code?: string; status?: number } | undefined;
    assert.equal(err?.code, "UPGRADE_REFUSED");
    assert.equal(err?.status, 401);
  });
});
