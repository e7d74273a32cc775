/**
 * The floor the paired-handshake rows are read against (bench/handshake-floor.ts) does the work it
 * claims: it admits only a connect whose v3 signature covers this connection's nonce, answers with
 * a hello-ok of the gateway's size, and finishes the close handshake. A floor that skipped the
 * verify would be faster than any gateway can be and make the comparison worthless.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import { pairedConnectParams } from "../../bench/handshake-client.js";
import { HELLO_OK_BYTES, startHandshakeFloor } from "../../bench/handshake-floor.js";
import { ownTimedHandshake } from "../../bench/own-client.js";
import { generateIdentity } from "../../src/identity/keys.js";

const SCOPES = ["operator.read"];
const TOKEN = "floor-test-token-" + "z".repeat(32);

describe("handshake floor", () => {
  let floor: Awaited<ReturnType<typeof startHandshakeFloor>>;
  const device = generateIdentity();
  const other = generateIdentity();

  before(async () => {
    floor = await startHandshakeFloor();
  });
  after(() => new Promise<void>((resolve) => floor.server.close(() => resolve())));

  it("admits a connect signed over this connection's nonce, and closes cleanly", async () => {
    const ms = await ownTimedHandshake(floor.url, (nonce) =>
      pairedConnectParams(device, TOKEN, nonce, SCOPES),
    );
    assert.ok(ms > 0);
    // The client closes right after the answer; the close handshake leaves no connection behind.
    const open = () =>
      new Promise<number>((resolve, reject) =>
        floor.server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
      );
    for (let i = 0; i < 100 && (await open()) > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await open(), 0);
  });

  it("refuses a signature over another nonce, by another key, or over other scopes", async () => {
    await assert.rejects(
      ownTimedHandshake(floor.url, () => pairedConnectParams(device, TOKEN, "not-the-challenge", SCOPES)),
      /handshake refused/,
    );
    await assert.rejects(
      ownTimedHandshake(floor.url, (nonce) => {
        const params = pairedConnectParams(device, TOKEN, nonce, SCOPES);
        params.device.signature = pairedConnectParams(other, TOKEN, nonce, SCOPES).device.signature;
        return params;
      }),
      /handshake refused/,
    );
    await assert.rejects(
      ownTimedHandshake(floor.url, (nonce) => ({
        ...pairedConnectParams(device, TOKEN, nonce, SCOPES),
        scopes: ["operator.admin"],
      })),
      /handshake refused/,
    );
  });

  it("answers a good connect with a frame as large as the gateway's hello-ok", async () => {
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const ws = new WebSocket(floor.url, { perMessageDeflate: false });
      ws.on("error", reject);
      ws.on("message", (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as { type: string; payload?: { nonce: string } };
        if (frame.type === "event") {
          const params = pairedConnectParams(device, TOKEN, frame.payload!.nonce, SCOPES);
          ws.send(JSON.stringify({ type: "req", id: "1", method: "connect", params }));
        } else {
          ws.close();
          resolve(data);
        }
      });
    });
    assert.equal(answer.length, HELLO_OK_BYTES);
    assert.deepEqual(JSON.parse(answer.toString()).ok, true);
  });

  it("cuts an upgrade request that never ends instead of buffering it", async () => {
    const port = Number(new URL(floor.url).port);
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write("GET / HTTP/1.1\r\nHost: x\r\nX-Filler: " + "a".repeat(9000));
      });
      let got = "";
      // A hang detector, not a timing assertion: a floor that keeps buffering never closes.
      const hang = setTimeout(() => {
        socket.destroy();
        resolve("still open");
      }, 5000);
      socket.on("data", (c: Buffer) => (got += c.toString("latin1")));
      // The cut may arrive as a reset, since the request was not read to its end.
      socket.on("error", () => {});
      socket.on("close", () => {
        clearTimeout(hang);
        resolve(`closed, answered ${JSON.stringify(got)}`);
      });
    });
    assert.equal(outcome, 'closed, answered ""');
  });
});
