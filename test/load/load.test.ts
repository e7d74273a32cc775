/**
 * Load: many concurrent authenticated connections held open while devices pair, get approved and
 * get revoked. Loopback only, bounded in count and time. Fast variant by default; 10,000
 * connections with `npm run test:stress`.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { GatewayClient } from "../../src/client/index.js";
import { loadIdentity } from "../../src/identity/file-store.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { freePort, spawnGateway } from "../helpers/gateway-process.js";
import { holdMany, pairingRound, rssOf } from "../helpers/load.js";

const STRESS = process.env.GATEHOUSE_STRESS === "1";
const CONNECTIONS = STRESS ? 10_000 : 1_000;
const DEVICES = STRESS ? 100 : 10;
const TOKEN = "load-test-token-0123456789abcdefghijklmn";

const sandbox = createCliSandbox();
after(() => sandbox.cleanup());

describe("load", () => {
  it(
    `holds ${CONNECTIONS} authenticated connections while ${DEVICES} devices pair, get approved and revoked`,
    { timeout: STRESS ? 600_000 : 120_000 },
    async (t) => {
      const dir = sandbox.stateDir();
      const port = await freePort();
      writeFileSync(
        join(dir, "gatehouse.json"),
        JSON.stringify({
          gateway: {
            port,
            auth: { token: TOKEN },
            trustedProxies: ["127.0.0.1"],
            limits: { maxConnections: CONNECTIONS + 1000, maxConnectionsPerIp: CONNECTIONS + 1000 },
          },
        }),
      );
      const gw = await spawnGateway(["--state-dir", dir], sandbox.env, { keepLog: false });
      const pid = gw.child.pid!;
      const owner = new GatewayClient({
        url: gw.url,
        identity: loadIdentity(join(dir, "identity", "device.json")),
        scopes: ["operator.admin", "operator.pairing"],
      });
      try {
        await owner.connect();
        const rssBefore = rssOf(pid);
        const held = await holdMany(gw.url, TOKEN, CONNECTIONS);
        const rssHeld = rssOf(pid);
        const round = await pairingRound(gw.url, TOKEN, owner, DEVICES);
        const stillOpen = held.open.filter((ws) => ws.readyState === ws.OPEN).length;
        const perConnection = (rssHeld - rssBefore) / Math.max(1, held.open.length);
        t.diagnostic(
          `tried ${CONNECTIONS} connections: ${held.open.length} admitted, ${held.refusals.length} refused, ` +
            `${held.handshakesPerSecond.toFixed(0)} handshakes/s; ${stillOpen} still open after the pairing round`,
        );
        t.diagnostic(
          `pairing round: ${round.paired}/${DEVICES} paired and revoked, ${round.wronglyAdmitted} wrongly admitted, ` +
            `${round.wronglyRefused} wrongly refused`,
        );
        t.diagnostic(
          `gateway RSS ${(rssBefore / 2 ** 20).toFixed(1)} MiB → ${(rssHeld / 2 ** 20).toFixed(1)} MiB: ${(perConnection / 1024).toFixed(1)} KiB per connection`,
        );
        assert.deepEqual(held.refusals.slice(0, 3), [], "no refusal that should not happen");
        assert.equal(held.open.length, CONNECTIONS);
        assert.equal(stillOpen, CONNECTIONS, "held sessions stay open while pairing state changes");
        assert.equal(round.wronglyAdmitted, 0, "no admission that should not happen");
        assert.equal(round.wronglyRefused, 0);
        assert.equal(round.paired, DEVICES);
        for (const ws of held.open) ws.terminate();
      } finally {
        await owner.close();
        await gw.stop();
      }
    },
  );
});
