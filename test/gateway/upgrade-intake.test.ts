/**
 * The intake in front of a plain HTTP server: which requests it takes itself, which it hands to
 * Node's server (and that Node then serves them as if it had read them first), and the sockets
 * that never send anything.
 */
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import {
  INTAKE_SILENT_MS,
  installUpgradeIntake,
  type UpgradeIntake,
  type UpgradeRequestFacts,
} from "../../src/gateway/upgrade-intake.js";

const UPGRADE =
  "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

interface Rig {
  server: Server;
  intake: UpgradeIntake;
  port: number;
  /** Upgrades the intake took: the request facts, the peer they name and the bytes after the head. */
  taken: Array<{ req: UpgradeRequestFacts; peer: string | undefined; head: Buffer }>;
  /** Upgrades Node's parser read. */
  nodeUpgrades: IncomingMessage[];
}

let rig: Rig | null = null;
afterEach(async () => {
  if (!rig) return;
  rig.intake.close();
  rig.server.closeAllConnections();
  await new Promise((resolve) => rig!.server.close(resolve));
  rig = null;
});

async function start(headersTimeoutMs?: number, silentMs?: number): Promise<Rig> {
  const server = createServer((req, res) => res.end(`served ${req.url}\n`));
  if (headersTimeoutMs !== undefined) {
    server.headersTimeout = headersTimeoutMs;
    server.requestTimeout = headersTimeoutMs * 2;
  }
  const taken: Rig["taken"] = [];
  const nodeUpgrades: IncomingMessage[] = [];
  server.on("upgrade", (req: IncomingMessage, socket: Socket) => {
    nodeUpgrades.push(req);
    socket.end("HTTP/1.1 418 Node\r\nConnection: close\r\n\r\n");
  });
  const intake = installUpgradeIntake(
    server,
    (req, socket, head) => {
      taken.push({ req, peer: req.socket.remoteAddress, head });
      socket.end("HTTP/1.1 418 Intake\r\nConnection: close\r\n\r\n");
    },
    { silentMs },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  rig = { server, intake, port: (server.address() as { port: number }).port, taken, nodeUpgrades };
  return rig;
}

/** Sends `parts` (30 ms apart) and resolves with everything the server wrote until it closed. */
function exchange(port: number, ...parts: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let got = "";
    socket.on("data", (d) => (got += d.toString("latin1")));
    socket.on("error", reject);
    socket.on("close", () => resolve(got));
    socket.on("connect", async () => {
      for (const [i, part] of parts.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, 30));
        socket.write(part);
      }
    });
  });
}

describe("upgrade intake", { timeout: 10_000 }, () => {
  test("a plain upgrade is taken by the intake, with its facts and the bytes after it; Node's parser never sees it", async () => {
    const { port, taken, nodeUpgrades } = await start();
    const answer = await exchange(port, `${UPGRADE}Origin: http://127.0.0.1\r\n\r\nFIRST-FRAME`);
    assert.match(answer, /^HTTP\/1\.1 418 Intake/);
    assert.equal(nodeUpgrades.length, 0);
    assert.equal(taken.length, 1);
    const { req, peer, head } = taken[0]!;
    assert.equal(req.method, "GET");
    assert.equal(req.url, "/ws");
    assert.equal(req.headers.origin, "http://127.0.0.1");
    assert.equal(req.headers.host, "127.0.0.1");
    assert.equal(peer, "127.0.0.1");
    assert.equal(head.toString(), "FIRST-FRAME");
  });

  test("an upgrade with a repeated Origin goes to Node, which reads both (and the gateway refuses the pair)", async () => {
    const { port, taken, nodeUpgrades } = await start();
    const answer = await exchange(
      port,
      `${UPGRADE}Origin: http://127.0.0.1\r\nOrigin: https://evil.example\r\n\r\n`,
    );
    assert.match(answer, /^HTTP\/1\.1 418 Node/);
    assert.equal(taken.length, 0);
    assert.equal(nodeUpgrades[0]?.headers.origin, "http://127.0.0.1, https://evil.example");
  });

  test("a head that arrives in two parts goes to Node whole", async () => {
    const { port, taken, nodeUpgrades } = await start();
    const answer = await exchange(port, UPGRADE.slice(0, 25), `${UPGRADE.slice(25)}\r\n`);
    assert.match(answer, /^HTTP\/1\.1 418 Node/);
    assert.equal(taken.length, 0);
    assert.equal(nodeUpgrades[0]?.url, "/ws");
    assert.equal(nodeUpgrades[0]?.headers["sec-websocket-version"], "13");
  });

  test("plain requests are served by Node as before, several on one kept-alive connection", async () => {
    const { port, taken } = await start();
    const answer = await exchange(
      port,
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /two HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert.deepEqual(answer.match(/served \S+/g), ["served /healthz", "served /two", "served /three"]);
    assert.equal(taken.length, 0);
  });

  test("an unusual upgrade (no Host) is left to Node's parser, and a request Node refuses is refused as before", async () => {
    const { port, taken, nodeUpgrades } = await start();
    assert.match(
      await exchange(port, UPGRADE.replace("Host: 127.0.0.1\r\n", "") + "\r\n"),
      /^HTTP\/1\.1 418 Node/,
    );
    assert.equal(nodeUpgrades.length, 1);
    assert.match(
      await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"),
      /^HTTP\/1\.1 400 Bad Request/,
    );
    assert.equal(taken.length, 0);
  });

  test("a socket silent for the intake's window is answered 408, however long Node's own headersTimeout", async () => {
    // Node's 60 s would start again at a hand-over: the intake's wait must be the shorter one.
    const { port, server } = await start(undefined, 300);
    assert.equal(server.headersTimeout, 60_000);
    const began = Date.now();
    const answer = await exchange(port);
    assert.match(answer, /^HTTP\/1\.1 408 Request Timeout/);
    const waited = Date.now() - began;
    assert.ok(waited >= 290 && waited < 5_000, `closed after ${waited} ms`);
  });

  test("the intake's default window is short next to Node's headersTimeout", () => {
    assert.ok(INTAKE_SILENT_MS <= 10_000 && INTAKE_SILENT_MS < createServer().headersTimeout);
  });

  test("a socket that sends nothing is answered 408 and closed after the server's headersTimeout", async () => {
    const { port } = await start(300);
    const began = Date.now();
    const answer = await exchange(port);
    assert.match(answer, /^HTTP\/1\.1 408 Request Timeout/);
    assert.ok(Date.now() - began >= 290, `closed after ${Date.now() - began} ms`);
  });

  test("sockets that end or close without sending leave the intake at once", async () => {
    const { port, intake } = await start();
    const sockets = await Promise.all(
      Array.from({ length: 20 }, () => {
        const s = connect(port, "127.0.0.1");
        s.on("error", () => {});
        return new Promise<Socket>((resolve) => s.on("connect", () => resolve(s)));
      }),
    );
    for (let i = 0; i < 50 && intake.waiting() < 20; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(intake.waiting(), 20);
    // Half end (a FIN), half destroy.
    for (const [i, s] of sockets.entries()) {
      if (i % 2 === 0) s.end();
      else s.destroy();
    }
    for (let i = 0; i < 100 && intake.waiting() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(intake.waiting(), 0);
  });

  test("a client that resets before sending does not take the server down; close() drops the silent ones", async () => {
    const { port, intake, server } = await start();
    const reset = connect(port, "127.0.0.1");
    await new Promise((resolve) => reset.on("connect", resolve));
    reset.resetAndDestroy();
    const silent = connect(port, "127.0.0.1");
    const closed = new Promise((resolve) => silent.on("close", resolve));
    silent.on("error", () => {});
    await new Promise((resolve) => silent.on("connect", resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    intake.close();
    await closed;
    assert.match(
      await exchange(port, "GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      /served \/after/,
    );
    assert.equal(server.listening, true);
  });
});
