/**
 * `gatehouse explain` cannot disagree with the gateway: real connects (admit, silent approval, pend,
 * refusals of several kinds) are recorded by the real gateway in its audit log, and each is
 * replayed through the real `gatehouse explain` — described by flags, against the state the
 * gateway decided on — and by its recorded row. Decision and rule trace must be the same.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { ExplainReport } from "../../src/cli/commands/explain.js";
import { generateIdentity } from "../../src/identity/keys.js";
import type { AuditRecord } from "../../src/store/index.js";
import { decisionOf } from "../../src/cli/explain/recorded.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { runCli } from "../helpers/gateway-process.js";
import { pairDevice, startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import { openPeer, sendConnect, type ConnectOptions } from "../helpers/raw-client.js";

const sandbox = createCliSandbox();
after(() => sandbox.cleanup());

/** A client the gateway attributes to this address (a trusted same-host proxy forwards it). */
const REMOTE_IP = "203.0.113.7";

interface Case {
  name: string;
  /** How `gatehouse explain` describes the connection. */
  flags: (gw: TestGateway) => string[];
  /** The same connection on the wire. */
  connect: ConnectOptions;
  remote?: boolean;
  expect: AuditRecord["decision"];
}

describe("explain replays the gateway's own decisions", () => {
  it("admit, silent approval, pend and refusals: same decision, same rule trace", async () => {
    const gw = await startTestGateway({ trustedProxies: ["127.0.0.1"] });
    try {
      const port = gw.server.port;
      writeFileSync(
        join(gw.stateDir, "gatehouse.json"),
        JSON.stringify({ gateway: { port, auth: { token: TEST_TOKEN }, trustedProxies: ["127.0.0.1"] } }),
      );
      const reader = pairDevice(gw, ["operator.read"]);
      const revoked = pairDevice(gw, ["operator.read"], { revoked: true });
      const narrow = pairDevice(gw, ["operator.write"], { tokenScopes: ["operator.read"] });
      const where = (remote = false) => [
        "--from",
        "127.0.0.1",
        "--host",
        `127.0.0.1:${port}`,
        ...(remote ? ["--forwarded", REMOTE_IP] : []),
      ];
      const cases: Case[] = [
        {
          name: "the owner key",
          flags: () => [...where(), "--device", "owner", "--scope", "operator.admin"],
          connect: { identity: gw.owner, scopes: ["operator.admin"] },
          expect: "admit",
        },
        {
          name: "a local CLI without a device keeps its scopes (S02)",
          flags: () => [...where(), "--no-device", "--token", "--scope", "operator.write"],
          connect: { scopes: ["operator.write"], auth: { token: TEST_TOKEN } },
          expect: "admit",
        },
        {
          name: "a remote client without a device gets no scopes (C13)",
          flags: () => [...where(true), "--no-device", "--token", "--scope", "operator.write"],
          connect: { scopes: ["operator.write"], auth: { token: TEST_TOKEN } },
          remote: true,
          expect: "admit",
        },
        {
          name: "a new local device with the token is approved silently",
          flags: () => [...where(), "--token", "--scope", "operator.read"],
          connect: { identity: generateIdentity(), scopes: ["operator.read"], auth: { token: TEST_TOKEN } },
          expect: "approve-silently",
        },
        {
          name: "a new remote device with the token waits (C01)",
          flags: () => [...where(true), "--token", "--scope", "operator.read"],
          connect: { identity: generateIdentity(), scopes: ["operator.read"], auth: { token: TEST_TOKEN } },
          remote: true,
          expect: "pend",
        },
        {
          name: "a remote paired device with its token and the secret: the token admits (issue 11)",
          flags: () => [
            ...where(true),
            "--device",
            reader.identity.deviceId,
            "--device-token",
            "--token",
            "--scope",
            "operator.read",
          ],
          connect: {
            identity: reader.identity,
            scopes: ["operator.read"],
            auth: { deviceToken: reader.token, token: TEST_TOKEN },
          },
          remote: true,
          expect: "admit",
        },
        {
          name: "a remote paired device asking beyond its approval waits (scope-upgrade)",
          flags: () => [
            ...where(true),
            "--device",
            reader.identity.deviceId,
            "--device-token",
            "--scope",
            "operator.write",
          ],
          connect: {
            identity: reader.identity,
            scopes: ["operator.write"],
            auth: { deviceToken: reader.token },
          },
          remote: true,
          expect: "pend",
        },
        {
          name: "a device token asked for more than it carries (S09)",
          flags: () => [
            ...where(true),
            "--device",
            narrow.identity.deviceId,
            "--device-token",
            "--scope",
            "operator.write",
          ],
          connect: {
            identity: narrow.identity,
            scopes: ["operator.write"],
            auth: { deviceToken: narrow.token },
          },
          remote: true,
          expect: "reject",
        },
        {
          name: "a revoked device token (C08)",
          flags: () => [
            ...where(),
            "--device",
            revoked.identity.deviceId,
            "--device-token",
            "--scope",
            "operator.read",
          ],
          connect: {
            identity: revoked.identity,
            scopes: ["operator.read"],
            auth: { deviceToken: revoked.token },
          },
          expect: "reject",
        },
        {
          name: "no credential at all",
          flags: () => [...where(), "--no-auth", "--scope", "operator.read"],
          connect: { identity: generateIdentity(), scopes: ["operator.read"] },
          expect: "reject",
        },
        {
          name: "the node role without a device",
          flags: () => [...where(), "--no-device", "--client", "node-host", "--role", "node", "--token"],
          connect: { clientId: "node-host", mode: "node", role: "node", auth: { token: TEST_TOKEN } },
          expect: "reject",
        },
        {
          name: "the Control UI without a device",
          flags: () => [...where(), "--no-device", "--client", "openclaw-control-ui", "--token"],
          connect: { clientId: "openclaw-control-ui", mode: "webchat", auth: { token: TEST_TOKEN } },
          expect: "reject",
        },
      ];

      // Every prediction is made against the state the gateway is about to decide on: no case
      // changes what another one reads.
      const predicted: ExplainReport[] = [];
      for (const c of cases) {
        const r = await runCli(
          ["explain", ...c.flags(gw), "--state-dir", gw.stateDir, "--json"],
          sandbox.env,
        );
        assert.equal(r.code, 0, `${c.name}: ${r.stderr}`);
        predicted.push(JSON.parse(r.stdout) as ExplainReport);
      }

      for (const [i, c] of cases.entries()) {
        const before = gw.store.audit.list({ limit: 1 })[0]?.id ?? 0;
        const peer = await openPeer(gw.url, c.remote ? { "X-Forwarded-For": REMOTE_IP } : {});
        await sendConnect(peer, c.connect);
        peer.ws.close();
        gw.server.pairing.flushAudit();
        const rows = gw.store.audit.list({ afterId: before }).filter((r) => r.kind === "connect");
        assert.equal(rows.length, 1, `${c.name}: one recorded decision`);
        const row = rows[0]!;
        assert.equal(row.decision, c.expect, `${c.name}: ${JSON.stringify(row)}`);
        const p = predicted[i]!;
        assert.equal(p.decision, decisionOf(row), `${c.name}: explain says ${p.decision}`);
        assert.deepEqual(
          p.trace.map((t) => t.rule),
          row.trace,
          `${c.name}: explain's trace differs from the gateway's`,
        );
        if (row.decision === "reject") assert.equal(p.reason, row.reason, c.name);
        for (const t of p.trace)
          assert.notEqual(t.explanation, t.rule, `${c.name}: ${t.rule} has a sentence`);
      }

      // And a recorded decision read back by device id is the row itself, with the same trace.
      const replayed = await runCli(
        ["explain", reader.identity.deviceId, "--state-dir", gw.stateDir, "--json"],
        sandbox.env,
      );
      assert.equal(replayed.code, 0, replayed.stderr);
      const last = gw.store.audit.list({ deviceId: reader.identity.deviceId, limit: 1 })[0]!;
      const report = JSON.parse(replayed.stdout) as ExplainReport;
      assert.deepEqual([report.decision, report.trace.map((t) => t.rule)], [decisionOf(last), last.trace]);
    } finally {
      await gw.stop();
    }
  });
});
