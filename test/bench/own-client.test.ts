/** The handshake benches' client (gatehouse/client's own transport): admitted and refused by the real gateway, strict about the upgrade. */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { ownTimedHandshake } from "../../bench/own-client.js";
import { startTestGateway, TEST_TOKEN } from "../helpers/gateway.js";

const deviceLess = (token: string) => () => ({
  minProtocol: 4,
  maxProtocol: 4,
  client: { id: "cli", version: "bench", platform: process.platform, mode: "cli" },
  scopes: ["operator.read"],
  auth: { token },
});

describe("bench client (gatehouse/client's transport)", () => {
  it("is admitted by the gateway, is refused with the gateway's error, and closes cleanly either way", async () => {
    const gw = await startTestGateway();
    try {
      const ms = await ownTimedHandshake(gw.url, deviceLess(TEST_TOKEN));
      assert.ok(ms > 0);
      await assert.rejects(ownTimedHandshake(gw.url, deviceLess("wrong-token")), /AUTH_TOKEN_MISMATCH/);
      // Both sockets finish their close handshake: the gateway holds no connection afterwards.
      for (let i = 0; i < 100 && gw.server.openConnections().length > 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.deepEqual(gw.server.openConnections(), []);
    } finally {
      await gw.stop();
    }
  });

  it("refuses an upgrade answer whose Sec-WebSocket-Accept does not match its key", async () => {
    const server = createServer();
    server.on("upgrade", (_req, socket) => {
      socket.end(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const { port } = server.address() as AddressInfo;
      await assert.rejects(
        ownTimedHandshake(`ws://127.0.0.1:${port}`, deviceLess(TEST_TOKEN)),
        /Sec-WebSocket-Accept does not match/,
      );
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
