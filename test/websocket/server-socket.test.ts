/**
 * The gateway's server-side WebSocket against clients: the real `ws` client, Gatehouse's own
 * client transport, and a raw client that sends what no library would (bad upgrades, unmasked or
 * reserved-bit frames, oversized headers, a close it never answers). Each case checks what the
 * peer sees on the wire: the HTTP status, the close code and reason, the TCP end.
 */
import { strict as assert } from "node:assert";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import { ClientWebSocket } from "../../src/client/websocket.js";
import {
  acceptWebSocket,
  type ServerWebSocket,
  type ServerWebSocketOptions,
} from "../../src/websocket/server-socket.js";
import { checkUpgradeRequest } from "../../src/websocket/upgrade-request.js";
import { clientFrame, closeBody, RawClient } from "./raw-ws-client.js";

const LIMIT = 1024;

/** One accepted WebSocket as the server's owner sees it. */
interface Served {
  ws: ServerWebSocket;
  /** How many chunks each write to the kernel carried (`_write`: one; `_writev`: several). */
  writes: number[];
  messages: Array<string | Buffer>;
  /** Resolves when the owner heard the TCP close. */
  closed: Promise<void>;
  isClosed: () => boolean;
}

/**
 * A server whose owner records messages and echoes text back; text starting with `!` is a command:
 * `!close CODE REASON` closes, `!raise N` sets the payload limit.
 */
class TestServer {
  readonly served: Served[] = [];
  private waiters: Array<() => void> = [];
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(options: Partial<ServerWebSocketOptions> = {}): Promise<TestServer> {
    const server = createServer((_req, res) => res.writeHead(426).end());
    let self: TestServer | null = null;
    server.on("upgrade", (req, socket: Socket, head: Buffer) => {
      socket.on("error", () => socket.destroy());
      const ws = acceptWebSocket(req, socket, head, { maxPayload: LIMIT, ...options });
      if (ws === null) return;
      let done = false;
      let onClosed!: () => void;
      const closed = new Promise<void>((r) => (onClosed = r));
      const served: Served = { ws, writes: countWrites(socket), messages: [], closed, isClosed: () => done };
      ws.handler = {
        onMessage(data) {
          served.messages.push(data);
          if (typeof data !== "string") return;
          const [cmd, arg, ...rest] = data.split(" ");
          if (cmd === "!close") ws.close(Number(arg), rest.join(" "));
          else if (cmd === "!refuse") ws.sendAndClose("refused", Number(arg), rest.join(" "));
          else if (cmd === "!raise") ws.maxPayload = Number(arg);
          else if (!data.startsWith("!")) ws.send(data);
        },
        onSocketClosed() {
          done = true;
          onClosed();
        },
      };
      self!.served.push(served);
      for (const w of self!.waiters.splice(0)) w();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    self = new TestServer(server, (server.address() as AddressInfo).port);
    return self;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** The `n`th socket accepted (0-based), once it is. */
  async nth(n: number): Promise<Served> {
    while (this.served.length <= n) await new Promise<void>((r) => this.waiters.push(r));
    return this.served[n]!;
  }

  /** The socket accepted last, after `client` opened. */
  async last(): Promise<Served> {
    return this.nth(this.served.length === 0 ? 0 : this.served.length - 1);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    for (const s of this.served) s.ws.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Records, per write the socket makes to the kernel, how many chunks it carried. */
function countWrites(socket: Socket): number[] {
  const writes: number[] = [];
  const raw = socket as unknown as {
    _write(chunk: unknown, encoding: unknown, cb: unknown): void;
    _writev(chunks: unknown[], cb: unknown): void;
  };
  const write = raw._write;
  const writev = raw._writev;
  raw._write = function (this: unknown, chunk, encoding, cb) {
    writes.push(1);
    return write.call(this, chunk, encoding, cb);
  };
  raw._writev = function (this: unknown, chunks, cb) {
    writes.push(chunks.length);
    return writev.call(this, chunks, cb);
  };
  return writes;
}

/** `promise`, or a failure naming `what` after `ms`: a missing event fails, it does not hang. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Opens a raw client and waits for the server to have accepted it. */
async function rawOpen(server: TestServer, after?: Buffer): Promise<{ c: RawClient; s: Served }> {
  const before = server.served.length;
  const c = await RawClient.open(server.port, after ? { after } : {});
  assert.equal(c.status, 101, c.head);
  return { c, s: await server.nth(before) };
}

/** The server's close for `frame` from a raw client, and the TCP end after it. */
async function closeFor(server: TestServer, frame: Buffer): Promise<{ code: number; reason: string }> {
  const { c, s } = await rawOpen(server);
  c.write(frame);
  const close = await within(c.nextClose(), 5000, "the server's close");
  assert.ok(close, "a close frame came");
  // The connection failed: the server ends TCP without waiting for this client's close.
  await within(s.closed, 5000, "the owner hears the close");
  assert.equal(s.messages.length, 0, "nothing of a broken frame reaches the owner");
  return close;
}

describe("the server's opening handshake", () => {
  let server: TestServer;
  before(async () => (server = await TestServer.start()));
  after(() => server.stop());

  it("answers 101 with RFC 6455's own sample accept, and no extension even when offered", async () => {
    const c = await RawClient.open(server.port, {
      headers: { "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" },
    });
    assert.equal(c.status, 101);
    assert.equal(c.header("upgrade"), "websocket");
    assert.equal(c.header("connection"), "Upgrade");
    // RFC 6455 §1.3: key "dGhlIHNhbXBsZSBub25jZQ==" → "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
    assert.equal(c.header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert.equal(c.header("sec-websocket-extensions"), undefined);
    assert.equal(c.header("sec-websocket-protocol"), undefined);
    c.socket.destroy();
  });

  it("answers the first subprotocol offered, as ws did", async () => {
    const c = await RawClient.open(server.port, { headers: { "Sec-WebSocket-Protocol": "chat, superchat" } });
    assert.equal(c.status, 101);
    assert.equal(c.header("sec-websocket-protocol"), "chat");
    c.socket.destroy();
    const ws = new WebSocket(server.url, ["one", "two"]);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    assert.equal(ws.protocol, "one");
    ws.terminate();
  });

  const refusals: Array<[string, Parameters<typeof RawClient.open>[1], number, string]> = [
    ["a POST", { method: "POST" }, 405, "Invalid HTTP method"],
    ["Upgrade: h2c", { headers: { Upgrade: "h2c" } }, 400, "Invalid Upgrade header"],
    [
      "no key",
      { headers: { "Sec-WebSocket-Key": null } },
      400,
      "Missing or invalid Sec-WebSocket-Key header",
    ],
    [
      "a key of 15 bytes",
      { headers: { "Sec-WebSocket-Key": Buffer.alloc(15).toString("base64") } },
      400,
      "Missing or invalid Sec-WebSocket-Key header",
    ],
    [
      "a key of 17 bytes",
      { headers: { "Sec-WebSocket-Key": Buffer.alloc(17).toString("base64") } },
      400,
      "Missing or invalid Sec-WebSocket-Key header",
    ],
    [
      "no version",
      { headers: { "Sec-WebSocket-Version": null } },
      400,
      "Missing or invalid Sec-WebSocket-Version header",
    ],
    [
      "version 8",
      { headers: { "Sec-WebSocket-Version": "8" } },
      400,
      "Missing or invalid Sec-WebSocket-Version header",
    ],
    [
      "an empty subprotocol",
      { headers: { "Sec-WebSocket-Protocol": "a,,b" } },
      400,
      "Invalid Sec-WebSocket-Protocol header",
    ],
    [
      "a subprotocol twice",
      { headers: { "Sec-WebSocket-Protocol": "a, a" } },
      400,
      "Invalid Sec-WebSocket-Protocol header",
    ],
    [
      "a subprotocol that is not a token",
      { headers: { "Sec-WebSocket-Protocol": "a b" } },
      400,
      "Invalid Sec-WebSocket-Protocol header",
    ],
  ];
  for (const [name, opts, status, message] of refusals) {
    it(`refuses ${name} with HTTP ${status} and closes the connection`, async () => {
      const before = server.served.length;
      const c = await RawClient.open(server.port, opts);
      assert.equal(c.status, status, c.head);
      assert.equal(c.header("connection"), "close");
      if (message.includes("Version")) assert.equal(c.header("sec-websocket-version"), "13");
      assert.equal(await within(c.body(), 5000, "the refusal's end"), message);
      assert.equal(server.served.length, before, "no WebSocket was opened");
    });
  }

  it("checks the Connection header itself (Node's parser routes such requests elsewhere)", () => {
    const headers = {
      upgrade: "websocket",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
    };
    assert.deepEqual(
      checkUpgradeRequest({ method: "GET", headers: { ...headers, connection: "keep-alive" } }),
      {
        ok: false,
        status: 400,
        message: "Invalid Connection header",
        header: "",
      },
    );
    assert.equal(
      checkUpgradeRequest({ method: "GET", headers: { ...headers, connection: "keep-alive, Upgrade" } }).ok,
      true,
    );
  });
});

describe("messages", () => {
  let server: TestServer;
  before(async () => (server = await TestServer.start()));
  after(() => server.stop());

  it("reassembles a fragmented message from the ws client, answering a ping between fragments", async () => {
    const ws = new WebSocket(server.url, { perMessageDeflate: false });
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const s = await server.last();
    const pong = new Promise<Buffer>((resolve) => ws.once("pong", resolve));
    const echo = new Promise<string>((resolve) => ws.once("message", (d) => resolve(d.toString())));
    ws.send("hel", { fin: false });
    ws.ping("p");
    ws.send("lo ✓", { fin: true });
    assert.equal((await within(pong, 5000, "pong")).toString(), "p");
    assert.equal(await within(echo, 5000, "echo"), "hello ✓");
    ws.send(Buffer.from([0, 1, 255]), { binary: true });
    const closed = new Promise<[number, string]>((resolve) =>
      ws.once("close", (c, r) => resolve([c, r.toString()])),
    );
    ws.close(4000, "bye");
    assert.deepEqual(
      await within(closed, 5000, "close"),
      [4000, "bye"],
      "the server answered with the code and reason",
    );
    await within(s.closed, 5000, "the owner hears the close");
    assert.deepEqual(s.messages, ["hello ✓", Buffer.from([0, 1, 255])]);
  });

  it("serves Gatehouse's own client: messages both ways, then its close", async () => {
    const events: string[] = [];
    let ws!: ClientWebSocket;
    const done = new Promise<void>((resolve) => {
      ws = new ClientWebSocket(
        { url: new URL(server.url), tlsTimeoutMs: 1000 },
        {
          onOpen: () => ws.send("hi"),
          onMessage: (d) => {
            events.push(`message ${String(d)}`);
            ws.close(1000, "done");
          },
          onError: (e) => events.push(`error ${e.message}`),
          onClose: (code, reason) => {
            events.push(`close ${code} ${reason}`);
            resolve();
          },
        },
      );
    });
    await within(done, 5000, "the client's close");
    assert.deepEqual(events, ["message hi", "close 1000 done"]);
  });

  it("reads a first frame sent in the same write as the upgrade request", async () => {
    const { s, c } = await rawOpen(server, clientFrame({ payload: "early" }));
    const echo = await within(c.nextFrame(), 5000, "echo");
    assert.equal(echo?.payload.toString(), "early");
    assert.deepEqual(s.messages, ["early"]);
    c.socket.destroy();
  });

  it("sends unmasked frames in every length form", async () => {
    const { c } = await rawOpen(server);
    c.write(clientFrame({ payload: "!raise 100000" }));
    for (const size of [0, 125, 126, 65535, 65536]) {
      c.write(clientFrame({ payload: "x".repeat(size) }));
      const frame = await within(c.nextFrame(), 5000, `echo of ${size}`);
      assert.equal(frame?.masked, false);
      assert.equal(frame?.opcode, 1);
      assert.equal(frame?.payload.length, size);
    }
    c.socket.destroy();
  });

  it("answers a ping with a pong carrying its payload", async () => {
    const { c } = await rawOpen(server);
    c.write(clientFrame({ opcode: 9, payload: "abc" }));
    const pong = await within(c.nextFrame(), 5000, "pong");
    assert.equal(pong?.opcode, 10);
    assert.equal(pong?.payload.toString(), "abc");
    c.socket.destroy();
  });
});

describe("frames RFC 6455 forbids", () => {
  let server: TestServer;
  before(async () => (server = await TestServer.start()));
  after(() => server.stop());

  const cases: Array<[string, () => Buffer, number]> = [
    ["an unmasked frame", () => clientFrame({ payload: "hi", mask: false }), 1002],
    ["a reserved bit", () => clientFrame({ payload: "hi", rsv: 4 }), 1002],
    ["opcode 3", () => clientFrame({ opcode: 3, payload: "hi" }), 1002],
    ["a ping of 126 bytes", () => clientFrame({ opcode: 9, payload: "p".repeat(126) }), 1002],
    ["a fragmented ping", () => clientFrame({ opcode: 9, fin: false, payload: "p" }), 1002],
    ["a continuation with nothing to continue", () => clientFrame({ opcode: 0, payload: "x" }), 1002],
    [
      "a new message inside a fragmented one",
      () => Buffer.concat([clientFrame({ fin: false, payload: "a" }), clientFrame({ payload: "b" })]),
      1002,
    ],
    ["a close of one byte", () => clientFrame({ opcode: 8, payload: Buffer.from([3]) }), 1002],
    ["close code 1005 on the wire", () => clientFrame({ opcode: 8, payload: closeBody(1005) }), 1002],
    ["close code 2000", () => clientFrame({ opcode: 8, payload: closeBody(2000) }), 1002],
    ["text that is not UTF-8", () => clientFrame({ payload: Buffer.from([0x7b, 0xff, 0x7d]) }), 1007],
    [
      "UTF-8 broken across fragments",
      () =>
        Buffer.concat([
          clientFrame({ fin: false, payload: Buffer.from([0xe2, 0x9c]) }),
          clientFrame({ opcode: 0, payload: Buffer.from([0x41]) }),
        ]),
      1007,
    ],
    [
      "a close reason that is not UTF-8",
      () => clientFrame({ opcode: 8, payload: closeBody(1000, Buffer.from([0xc3])) }),
      1007,
    ],
  ];
  for (const [name, frame, code] of cases) {
    it(`closes ${code} on ${name}, saying why, and ends the connection`, async () => {
      const close = await closeFor(server, frame());
      assert.equal(close.code, code);
      assert.notEqual(close.reason, "", "the reason says what was wrong");
    });
  }

  it("a UTF-8 character split across fragments is read whole", async () => {
    const { c, s } = await rawOpen(server);
    c.write(clientFrame({ fin: false, payload: Buffer.from([0xe2, 0x9c]) }));
    c.write(clientFrame({ opcode: 0, payload: Buffer.from([0x93]) }));
    assert.equal((await within(c.nextFrame(), 5000, "echo"))?.payload.toString(), "✓");
    assert.deepEqual(s.messages, ["✓"]);
    c.socket.destroy();
  });
});

describe("the payload limit", () => {
  let server: TestServer;
  before(async () => (server = await TestServer.start()));
  after(() => server.stop());

  it("refuses a frame over the limit (1009) from its header alone, before its payload arrives", async () => {
    const { c, s } = await rawOpen(server);
    // Only the header of a LIMIT + 1 byte frame: the server must judge it without the payload.
    c.write(clientFrame({ payload: "x".repeat(LIMIT + 1) }).subarray(0, 8));
    const close = await within(c.nextClose(), 5000, "the server's close");
    assert.equal(close?.code, 1009);
    await within(s.closed, 5000, "the owner hears the close");
  });

  it("counts every fragment of a message", async () => {
    const half = "x".repeat(LIMIT / 2 + 1);
    const close = await closeFor(
      server,
      Buffer.concat([clientFrame({ fin: false, payload: half }), clientFrame({ opcode: 0, payload: half })]),
    );
    assert.equal(close.code, 1009);
  });

  it("accepts a message of exactly the limit", async () => {
    const { c } = await rawOpen(server);
    c.write(clientFrame({ payload: "y".repeat(LIMIT) }));
    assert.equal((await within(c.nextFrame(), 5000, "echo"))?.payload.length, LIMIT);
    c.socket.destroy();
  });

  it("takes a raised limit from the next frame on", async () => {
    const { c, s } = await rawOpen(server);
    c.write(clientFrame({ payload: "!raise 4096" }));
    c.write(clientFrame({ payload: "z".repeat(3000) }));
    assert.equal((await within(c.nextFrame(), 5000, "echo"))?.payload.length, 3000);
    c.write(clientFrame({ payload: "z".repeat(4097) }));
    assert.equal((await within(c.nextClose(), 5000, "close"))?.code, 1009);
    await within(s.closed, 5000, "the owner hears the close");
  });

  it("refuses a message in more than 16,384 fragments, however small", async () => {
    const more = clientFrame({ opcode: 0, fin: false, payload: "" });
    const frames = Buffer.concat([
      clientFrame({ fin: false, payload: "" }),
      ...Array<Buffer>(16_384).fill(more),
    ]);
    const close = await closeFor(server, frames);
    assert.equal(close.code, 1009);
  });
});

describe("the close handshake", () => {
  // The default close timeout (30 s): a connection that closes within a test's wait was ended by
  // the handshake, not cut by the timer.
  let server: TestServer;
  before(async () => (server = await TestServer.start()));
  after(() => server.stop());

  it("a client's close is answered with its code and reason, then the server ends TCP", async () => {
    const { c, s } = await rawOpen(server);
    c.write(clientFrame({ opcode: 8, payload: closeBody(4000, "bye ✓") }));
    assert.deepEqual(await within(c.nextClose(), 5000, "the answer"), { code: 4000, reason: "bye ✓" });
    await within(c.closed, 5000, "the server ends TCP");
    assert.equal(c.sawEnd, true, "ended (FIN), not reset");
    await within(s.closed, 5000, "the owner hears the close");
    assert.equal(s.ws.isOpen, false);
  });

  it("a close without a code is answered without one", async () => {
    const { c } = await rawOpen(server);
    c.write(clientFrame({ opcode: 8, payload: "" }));
    const frame = await within(c.nextFrame(), 5000, "the answer");
    assert.equal(frame?.opcode, 8);
    assert.equal(frame?.payload.length, 0);
    await within(c.closed, 5000, "the server ends TCP");
  });

  it("the server's close carries its code and reason; TCP ends once the client answers", async () => {
    const { c, s } = await rawOpen(server);
    c.write(clientFrame({ payload: "!close 4001 going away" }));
    assert.deepEqual(await within(c.nextClose(), 5000, "the close"), { code: 4001, reason: "going away" });
    assert.equal(s.ws.isOpen, false, "closing: nothing more is sent");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.sawEnd, false, "the server waits for the client's close before ending TCP");
    // What the client sends after the server's close is not read.
    c.write(clientFrame({ payload: "late" }));
    c.write(clientFrame({ opcode: 8, payload: closeBody(4001) }));
    await within(c.closed, 5000, "the server ends TCP");
    await within(s.closed, 5000, "the owner hears the close");
    assert.deepEqual(s.messages, ["!close 4001 going away"]);
  });

  it("a last message and the close leave in one write, the message first", async () => {
    const { c, s } = await rawOpen(server);
    const before = s.writes.length;
    c.write(clientFrame({ payload: "!refuse 1008 pairing required" }));
    const message = await within(c.nextFrame(), 5000, "the last message");
    assert.equal(message?.opcode, 1);
    assert.equal(message?.payload.toString(), "refused");
    assert.deepEqual(await within(c.nextClose(), 5000, "the close"), {
      code: 1008,
      reason: "pairing required",
    });
    assert.deepEqual(s.writes.slice(before), [2], "one write of two frames");
    c.write(clientFrame({ opcode: 8, payload: closeBody(1008) }));
    await within(c.closed, 5000, "the server ends TCP");
  });

  it("a long reason is cut to 123 bytes at a character boundary", async () => {
    const { c } = await rawOpen(server);
    c.write(clientFrame({ payload: `!close 1000 ${"é".repeat(100)}` }));
    const close = await within(c.nextClose(), 5000, "the close");
    assert.equal(close?.reason, "é".repeat(61));
    c.socket.destroy();
  });

  it("a client that ends TCP without a close is ended too, and the owner hears it", async () => {
    const { c, s } = await rawOpen(server);
    c.socket.end();
    await within(s.closed, 5000, "the owner hears the close");
    await within(c.closed, 5000, "the connection closed");
  });

  it("a reset never reaches the process as an error", async () => {
    const { c, s } = await rawOpen(server);
    c.write(clientFrame({ payload: "x" }));
    c.socket.resetAndDestroy();
    await within(s.closed, 5000, "the owner hears the close");
    assert.equal(s.ws.isOpen, false);
  });
});

describe("the close timeout", () => {
  it("cuts a client that never answers the server's close", async () => {
    const server = await TestServer.start({ closeTimeoutMs: 300 });
    try {
      const { c, s } = await rawOpen(server);
      const started = Date.now();
      c.write(clientFrame({ payload: "!close 1000 bye" }));
      assert.equal((await within(c.nextClose(), 5000, "the close"))?.code, 1000);
      await within(s.closed, 5000, "the server cuts the connection");
      assert.ok(Date.now() - started >= 250, `not before the timeout (${Date.now() - started} ms)`);
      await within(c.closed, 5000, "the client sees it closed");
    } finally {
      await server.stop();
    }
  });
});

describe("backpressure", () => {
  it("bufferedAmount counts what a client that does not read has left unread", async () => {
    const server = await TestServer.start();
    try {
      const { c, s } = await rawOpen(server);
      c.socket.pause();
      assert.equal(s.ws.bufferedAmount, 0);
      const big = "b".repeat(256 * 1024);
      for (let i = 0; i < 64; i++) s.ws.send(big);
      assert.ok(s.ws.bufferedAmount > 1024 * 1024, `buffered ${s.ws.bufferedAmount}`);
      c.socket.destroy();
      await within(s.closed, 5000, "the owner hears the close");
    } finally {
      await server.stop();
    }
  });
});
