/**
 * The gateway's own reading of an upgrade request against Node's HTTP parser, on generated
 * requests: whenever `readUpgradeHead` reads one, Node reads the same bytes to an upgrade with
 * the same method, target and headers. What it does not read goes to Node, so it may decline
 * anything; the generator makes sure it still reads the plain requests real clients send.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import fc from "fast-check";
import { MAX_HEAD_BYTES, readUpgradeHead } from "../../src/websocket/request-head.js";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** A plain upgrade as clients send it. */
function plain(extra: string[] = [], target = "/"): string {
  return [
    `GET ${target} HTTP/1.1`,
    "Host: 127.0.0.1:18789",
    "Connection: Upgrade",
    "Upgrade: websocket",
    `Sec-WebSocket-Key: ${KEY}`,
    "Sec-WebSocket-Version: 13",
    ...extra,
    "",
    "",
  ].join("\r\n");
}

/** What Node's parser makes of `bytes`: the upgrade's method, target and headers, or another outcome. */
type NodeReading =
  { kind: "upgrade"; method: string; url: string; headers: Record<string, unknown> } | { kind: "other" };

let server: Server;
let port = 0;
/** Who waits for Node's reading of the request from each client port. */
const waiting = new Map<number, (r: NodeReading) => void>();
const settle = (clientPort: number | undefined, r: NodeReading) => {
  const resolve = clientPort === undefined ? undefined : waiting.get(clientPort);
  if (!resolve) return;
  waiting.delete(clientPort!);
  resolve(r);
};

before(async () => {
  server = createServer((req, res) => {
    settle(req.socket.remotePort, { kind: "other" });
    res.end();
  });
  server.on("upgrade", (req: IncomingMessage, socket: Socket) => {
    settle(req.socket.remotePort, {
      kind: "upgrade",
      method: req.method ?? "",
      url: req.url ?? "",
      headers: { ...req.headers },
    });
    socket.destroy();
  });
  server.on("clientError", (_err, socket: Socket) => {
    settle(socket.remotePort, { kind: "other" });
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function nodeReads(bytes: Buffer): Promise<NodeReading> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      const local = socket.localPort!;
      waiting.set(local, resolve);
      socket.on("close", () => setTimeout(() => settle(local, { kind: "other" }), 200));
      socket.end(bytes);
    });
    socket.on("error", () => {});
  });
}

describe("readUpgradeHead", () => {
  test("reads a client's plain upgrade, with what came after it", () => {
    const frame = Buffer.from([0x81, 0x80, 1, 2, 3, 4]);
    const read = readUpgradeHead(
      Buffer.concat([Buffer.from(plain(["Origin: http://localhost:18789"], "/?x=1")), frame]),
    );
    assert.ok(read);
    assert.equal(read.request.method, "GET");
    assert.equal(read.request.url, "/?x=1");
    assert.deepEqual(
      { ...read.request.headers },
      {
        host: "127.0.0.1:18789",
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-key": KEY,
        "sec-websocket-version": "13",
        origin: "http://localhost:18789",
      },
    );
    assert.deepEqual(read.rest, frame);
  });

  test("leaves to Node: other requests, incomplete or oversized heads, repeats, folds, odd bytes", () => {
    const declined = [
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
      plain().replace("GET", "POST"),
      plain().replace("HTTP/1.1", "HTTP/1.0"),
      plain().slice(0, -2),
      plain(["Origin: a", "Origin: b"]),
      plain(["Host: evil.example"]),
      plain(["X-Folded: a", " b"]),
      plain(["Content-Length: 0"]),
      plain().replace("Host: 127.0.0.1:18789\r\n", ""),
      plain().replace("Upgrade: websocket", "Upgrade: h2c"),
      plain().replace("Connection: Upgrade", "Connection: keep-alive"),
      plain(["X-Bad : space before colon"]),
      plain(["X-Latin1: caf\u00e9"]),
      plain(["X-Bare: a\nb"]),
      plain([], "/<script>"),
      plain(Array.from({ length: 60 }, (_, i) => `X-H${i}: ${i}`)),
      plain([`X-Big: ${"a".repeat(MAX_HEAD_BYTES)}`]),
    ];
    for (const text of declined)
      assert.equal(readUpgradeHead(Buffer.from(text, "latin1")), null, JSON.stringify(text.slice(0, 80)));
  });

  test("a head of long space runs is read in linear time (a pre-auth request must not cost a quarter second)", () => {
    // The bound is a hundred times what the linear reading takes: it only catches backtracking.
    const spaces = " ".repeat(15_000);
    const head = Buffer.from(plain([`X-A: a${spaces}b`]), "latin1");
    assert.ok(head.length < MAX_HEAD_BYTES);
    const began = process.hrtime.bigint();
    const read = readUpgradeHead(head);
    const ms = Number(process.hrtime.bigint() - began) / 1e6;
    assert.equal(read?.request.headers["x-a"], `a${spaces}b`);
    assert.ok(ms < 100, `took ${ms.toFixed(1)} ms`);
  });

  test("whatever it reads, Node reads to the same upgrade (generated requests)", async () => {
    /** Mostly what clients send, sometimes what they do not. */
    const mostly = <T>(good: T[], odd: T[]) =>
      fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...good) },
        { weight: 1, arbitrary: fc.constantFrom(...odd) },
      );
    const name = mostly(
      [
        "Origin",
        "origin",
        "X-Forwarded-For",
        "Forwarded",
        "X-Real-IP",
        "Sec-WebSocket-Protocol",
        "User-Agent",
        "X-A",
      ],
      ["Host", "Content-Length", "Transfer-Encoding"],
    );
    const value = fc.stringMatching(/^[ \t]{0,2}[\x21-\x7e]([\x20-\x7e\t]{0,20}[\x21-\x7e])?[ \t]{0,2}$/);
    const oddValue = fc.constantFrom("", "a\u00e9", "a\rb", "a\nb", "\u0000", "1, 2", " ");
    const header = fc.tuple(
      name,
      fc.oneof({ weight: 8, arbitrary: value }, { weight: 1, arbitrary: oddValue }),
      mostly([": ", ":", ":\t"], [" : "]),
    );
    const target = fc.oneof(
      { weight: 3, arbitrary: fc.constant("/") },
      { weight: 2, arbitrary: fc.stringMatching(/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]{0,12}$/) },
      { weight: 1, arbitrary: fc.stringMatching(/^\/[\x21-\x7e]{0,12}$/) },
    );
    const connection = mostly(
      ["Upgrade", "upgrade", "keep-alive, Upgrade", "Upgrade, close"],
      ["upgradex", ""],
    );
    const upgrade = mostly(["websocket", "WebSocket"], ["websocket2", ""]);
    const method = mostly(["GET"], ["POST", "get"]);
    const version = mostly(["HTTP/1.1"], ["HTTP/1.0"]);
    let read = 0;
    await fc.assert(
      fc.asyncProperty(
        method,
        target,
        version,
        connection,
        upgrade,
        fc.uniqueArray(header, { maxLength: 4, selector: ([n]) => n.toLowerCase() }),
        mostly([true], [false]),
        async (m, t, v, c, u, extra, host) => {
          const lines = [`${m} ${t} ${v}`];
          if (host) lines.push("Host: 127.0.0.1:1");
          if (c) lines.push(`Connection: ${c}`);
          if (u) lines.push(`Upgrade: ${u}`);
          lines.push(`Sec-WebSocket-Key: ${KEY}`, "Sec-WebSocket-Version: 13");
          for (const [n, val, sep] of extra) lines.push(`${n}${sep}${val}`);
          const bytes = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
          const ours = readUpgradeHead(bytes);
          if (ours === null) return;
          read++;
          const theirs = await nodeReads(bytes);
          assert.deepEqual(theirs, {
            kind: "upgrade",
            method: ours.request.method,
            url: ours.request.url,
            headers: { ...ours.request.headers },
          });
        },
      ),
      { numRuns: 300 },
    );
    assert.ok(read > 30, `only ${read} of 300 generated requests were read: the comparison proves little`);
  });
});
