/**
 * The WebSocket upgrade's verdict (C02, C05): named cases, then a sweep over Origin × Host × peer ×
 * allowedOrigins checking that Host and Origin can only refuse, and only a browser is judged.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isRuleId } from "../../src/policy/rules.js";
import {
  isGatewayAddressOrigin,
  isOriginAllowed,
  isOwnHost,
  upgradeVerdict,
  type UpgradeFacts,
} from "../../src/policy/upgrade.js";

const NAMES: ReadonlySet<string> = new Set([
  "localhost:18789",
  "127.0.0.1:18789",
  "[::1]:18789",
  "ui.example:443",
  // A LAN bind: its address, and the host name a wildcard bind adds.
  "192.168.1.5:18789",
  "[fd00::5]:18789",
  "gatehost:18789",
]);

function verdict(o: Partial<UpgradeFacts>) {
  return upgradeVerdict({
    origin: null,
    host: "127.0.0.1:18789",
    peerLoopback: true,
    allowedOrigins: [],
    ownNames: NAMES,
    ...o,
  });
}

describe("the upgrade verdict", () => {
  test("no Origin: not a browser page, the connect decision judges it (whatever the Host)", () => {
    for (const host of ["127.0.0.1:18789", "evil.example", null]) {
      assert.deepEqual(verdict({ host }), { ok: true, trace: [] });
    }
  });

  test("C02: a foreign Origin is refused with 403 before HTTP 101", () => {
    const v = verdict({ origin: "https://evil.example" });
    assert.deepEqual(v, {
      ok: false,
      status: 403,
      code: "CONTROL_UI_ORIGIN_NOT_ALLOWED",
      trace: ["origin-not-allowed"],
    });
  });

  test("the gateway's own page on loopback passes; the same Origin from a non-loopback peer does not", () => {
    assert.equal(verdict({ origin: "http://127.0.0.1:18789" }).ok, true);
    assert.equal(verdict({ origin: "http://127.0.0.1:18789", peerLoopback: false }).ok, false);
  });

  test("the gateway's own page on one of its addresses (a LAN bind) passes from any peer, unlisted", () => {
    for (const [origin, host] of [
      ["http://192.168.1.5:18789", "192.168.1.5:18789"],
      ["https://192.168.1.5:18789", "192.168.1.5:18789"],
      ["https://[fd00::5]:18789", "[fd00::5]:18789"],
    ] as const) {
      assert.deepEqual(verdict({ origin, host, peerLoopback: false }), {
        ok: true,
        trace: ["origin-is-gateway-address"],
      });
    }
  });

  test("an own address counts only as itself: other port, other Host, a name, or not an address of ours", () => {
    for (const [origin, host] of [
      ["http://192.168.1.5:3000", "192.168.1.5:18789"], // another service on that host
      ["http://192.168.1.5:18789", "127.0.0.1:18789"], // addressed elsewhere
      ["http://gatehost:18789", "gatehost:18789"], // a name can be re-pointed (DNS rebinding)
      ["http://192.168.1.9:18789", "192.168.1.9:18789"], // not one of the gateway's addresses
    ] as const) {
      const v = verdict({ origin, host, peerLoopback: false });
      assert.equal(v.ok, false, `${origin} → ${host}`);
      assert.equal(isGatewayAddressOrigin(origin, host, NAMES), false);
    }
  });

  test("C05: an allowed Origin addressed to a name that is not the gateway's is refused with 421", () => {
    const v = verdict({
      origin: "https://ui.example",
      allowedOrigins: ["https://ui.example"],
      host: "rebind.evil",
    });
    assert.deepEqual(v, {
      ok: false,
      status: 421,
      code: "HOST_NOT_ALLOWED",
      trace: ["host-not-gateway-name"],
    });
    assert.equal(
      verdict({ origin: "https://ui.example", allowedOrigins: ["https://ui.example"], host: "ui.example" })
        .ok,
      true,
    );
  });

  test("sweep: Host and Origin only ever refuse; a pass means an allowed origin and an own name", () => {
    const origins = [
      null,
      "http://127.0.0.1:18789",
      "http://localhost:3000",
      "https://ui.example",
      "http://192.168.1.5:18789",
      "http://gatehost:18789",
      "null",
      "",
    ];
    const hosts = [
      null,
      "127.0.0.1:18789",
      "192.168.1.5:18789",
      "gatehost:18789",
      "localhost:18789",
      "ui.example",
      "gw.tail1234.ts.net",
      "evil:18789",
    ];
    const alloweds = [[], ["https://ui.example"], ["*"]];
    let n = 0;
    for (const origin of origins)
      for (const host of hosts)
        for (const peerLoopback of [true, false])
          for (const allowedOrigins of alloweds) {
            const v = verdict({ origin, host, peerLoopback, allowedOrigins });
            const label = JSON.stringify({ origin, host, peerLoopback, allowedOrigins, v });
            for (const rule of v.trace) assert.ok(isRuleId(rule), label);
            if (origin === null) assert.equal(v.ok, true, label);
            else if (v.ok) {
              const own = isGatewayAddressOrigin(origin, host, NAMES);
              assert.ok(own || isOriginAllowed(origin, host, allowedOrigins, peerLoopback), label);
              assert.ok(isOwnHost(host, NAMES), label);
            } else {
              assert.equal(v.trace.length, 1, label);
              assert.equal(
                v.status === 403,
                !isOriginAllowed(origin, host, allowedOrigins, peerLoopback) &&
                  !isGatewayAddressOrigin(origin, host, NAMES),
                label,
              );
            }
            n++;
          }
    assert.equal(n, origins.length * hosts.length * 2 * alloweds.length);
  });
});
