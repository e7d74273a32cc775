import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  hostName,
  isLoopbackHostHeader,
  resolveLocality,
  shownOrigin,
  type Locality,
  type TransportFacts,
} from "../../src/policy/locality.js";

/** A direct loopback connection with a loopback Host and no proxy headers, unless overridden. */
function transport(overrides: Partial<TransportFacts> = {}): TransportFacts {
  return {
    peerAddress: "127.0.0.1",
    host: "127.0.0.1:18789",
    origin: null,
    forwardedFor: null,
    hasProxyHeaders: false,
    ...overrides,
  };
}

/** A request that arrived through `peer` carrying `X-Forwarded-For: xff`. */
function viaProxy(peer: string, xff: string | null, overrides: Partial<TransportFacts> = {}): TransportFacts {
  return transport({ peerAddress: peer, forwardedFor: xff, hasProxyHeaders: true, ...overrides });
}

function locality(facts: TransportFacts, trustedProxies: readonly string[] = []): Locality {
  const result = resolveLocality(facts, trustedProxies);
  assert.ok(result.trace.length > 0, "every locality carries a trace");
  return result;
}

function assertRemote(result: Locality, clientIp: string | null): void {
  assert.equal(result.directLocal, false, `expected not local; trace: ${result.trace.join(",")}`);
  assert.equal(result.clientIp, clientIp);
}

describe("direct local connections", () => {
  test("peer 127.0.0.1, Host 127.0.0.1:18789, no proxy headers → directLocal", () => {
    const r = locality(transport());
    assert.deepEqual(
      { clientIp: r.clientIp, directLocal: r.directLocal, browserOrigin: r.browserOrigin },
      {
        clientIp: "127.0.0.1",
        directLocal: true,
        browserOrigin: false,
      },
    );
  });

  for (const host of [
    "localhost:18789",
    "localhost",
    "LOCALHOST:18789",
    "[::1]:18789",
    "[::1]",
    "127.0.0.1",
    "127.9.9.9:1",
  ]) {
    test(`Host ${host} is local`, () => {
      assert.equal(locality(transport({ host })).directLocal, true);
    });
  }

  test("peer ::1 with Host [::1]:18789 is local", () => {
    const r = locality(transport({ peerAddress: "::1", host: "[::1]:18789" }));
    assert.equal(r.directLocal, true);
    assert.equal(r.clientIp, "::1");
  });

  test("peer ::ffff:127.0.0.1 is local and reported as 127.0.0.1", () => {
    const r = locality(transport({ peerAddress: "::ffff:127.0.0.1" }));
    assert.equal(r.directLocal, true);
    assert.equal(r.clientIp, "127.0.0.1");
  });

  test("a non-loopback peer with a loopback Host is not local", () => {
    assertRemote(locality(transport({ peerAddress: "192.168.1.20" })), "192.168.1.20");
  });

  test("LAN / tailnet address of the same host is not local", () => {
    assertRemote(locality(transport({ peerAddress: "100.64.0.5", host: "100.64.0.5:18789" })), "100.64.0.5");
  });
});

describe("C05 — Host header must not confer locality", () => {
  for (const host of [
    "foo.ts.net",
    "foo.ts.net:18789",
    "evil.example",
    "localhost.evil.example",
    "127.0.0.1.nip.io",
    "localhost.ts.net",
    "0.0.0.0:18789",
    "192.168.1.5:18789",
  ]) {
    test(`C05: loopback peer with Host ${host} → not local`, () => {
      assertRemote(locality(transport({ host })), "127.0.0.1");
    });
  }

  test("missing Host → not local", () => {
    assertRemote(locality(transport({ host: null })), "127.0.0.1");
  });

  test("empty Host → not local", () => {
    assertRemote(locality(transport({ host: "" })), "127.0.0.1");
  });
});

describe("C03 — forwarding headers from an untrusted peer", () => {
  test("C03: X-Forwarded-For 127.0.0.1 from an untrusted non-loopback peer → not local, clientIp = peer", () => {
    const r = locality(viaProxy("198.51.100.20", "127.0.0.1"));
    assertRemote(r, "198.51.100.20");
    assert.ok(r.trace.includes("proxy-headers-from-untrusted-peer"));
  });

  test("C03: untrusted peer outside the configured trusted proxies is still the client", () => {
    assertRemote(locality(viaProxy("198.51.100.20", "127.0.0.1"), ["10.0.0.0/8"]), "198.51.100.20");
  });

  test("C03 (PR #1795): proxy headers from a loopback peer with no trustedProxies → not local", () => {
    assertRemote(locality(viaProxy("127.0.0.1", "127.0.0.1")), "127.0.0.1");
    assertRemote(locality(viaProxy("127.0.0.1", "203.0.113.7")), "127.0.0.1");
  });

  test("C03: X-Real-IP / other proxy headers alone (no XFF) from an untrusted loopback peer → not local", () => {
    assertRemote(locality(viaProxy("127.0.0.1", null)), "127.0.0.1");
  });

  test("C03: a malformed trustedProxies entry ('10.0.0.0/') does not make an arbitrary peer a trusted proxy", () => {
    const r = locality(viaProxy("198.51.100.20", "203.0.113.99"), ["10.0.0.0/"]);
    assertRemote(r, "198.51.100.20");
  });
});

describe("trusted proxies", () => {
  test("trusted loopback proxy forwarding 203.0.113.7 → clientIp 203.0.113.7, not local", () => {
    const r = locality(viaProxy("127.0.0.1", "203.0.113.7"), ["127.0.0.1"]);
    assertRemote(r, "203.0.113.7");
  });

  test("trusted loopback proxy forwarding a loopback client → local", () => {
    const r = locality(viaProxy("127.0.0.1", "127.0.0.2"), ["127.0.0.1/32"]);
    assert.equal(r.directLocal, true);
    assert.equal(r.clientIp, "127.0.0.2");
  });

  test("trusted loopback proxy forwarding a loopback client but a non-loopback Host → not local", () => {
    assertRemote(
      locality(viaProxy("127.0.0.1", "127.0.0.2", { host: "gw.example" }), ["127.0.0.1"]),
      "127.0.0.2",
    );
  });

  test("C04: trusted LAN proxy 10.0.0.2 (trustedProxies 10.0.0.0/8) forwarding 127.0.0.1 → not local", () => {
    const r = locality(viaProxy("10.0.0.2", "127.0.0.1"), ["10.0.0.0/8"]);
    assertRemote(r, "127.0.0.1");
  });

  test("C04: over-broad RFC1918 trust, LAN 'proxy' chain ending in a forged loopback hop → not local", () => {
    const trusted = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
    const r = locality(viaProxy("192.168.1.66", "127.0.0.1, 10.0.0.3"), trusted);
    assertRemote(r, "127.0.0.1");
  });

  test("C04: mapped-IPv6 peer of a trusted LAN proxy is recognized as that proxy", () => {
    const r = locality(viaProxy("::ffff:10.0.0.2", "203.0.113.7"), ["10.0.0.0/8"]);
    assertRemote(r, "203.0.113.7");
  });

  test("C07: XFF '127.0.0.1, 198.51.100.9' via trusted proxy → right-most untrusted hop 198.51.100.9", () => {
    const r = locality(viaProxy("127.0.0.1", "127.0.0.1, 198.51.100.9"), ["127.0.0.1"]);
    assertRemote(r, "198.51.100.9");
  });

  test("C07: trusted hops on the right are skipped, the first untrusted one is the client", () => {
    const r = locality(viaProxy("10.0.0.2", "127.0.0.1, 198.51.100.9, 10.0.0.7,10.0.0.8"), ["10.0.0.0/8"]);
    assertRemote(r, "198.51.100.9");
  });

  test("XFF hops are canonicalized (mapped IPv6 → IPv4)", () => {
    const r = locality(viaProxy("127.0.0.1", "::ffff:198.51.100.9"), ["127.0.0.1"]);
    assertRemote(r, "198.51.100.9");
  });

  test("IPv6 trusted proxy forwarding an IPv6 client", () => {
    const r = locality(viaProxy("::1", "2001:DB8::5", { host: "[::1]:18789" }), ["::1"]);
    assertRemote(r, "2001:db8::5");
  });

  test("XFF made entirely of trusted hops → clientIp null, not local", () => {
    assertRemote(locality(viaProxy("127.0.0.1", "127.0.0.1"), ["127.0.0.1"]), null);
    assertRemote(locality(viaProxy("10.0.0.2", "10.0.0.3, 10.0.0.4"), ["10.0.0.0/8"]), null);
  });

  test("trusted proxy without X-Forwarded-For (X-Real-IP is not honoured) → clientIp null, not local", () => {
    assertRemote(locality(viaProxy("127.0.0.1", null), ["127.0.0.1"]), null);
  });

  for (const xff of ["not-an-ip", "203.0.113.7:4444", "203.0.113.7, , 10.0.0.3", "", "203.0.113.7,garbage"]) {
    test(`malformed XFF ${JSON.stringify(xff)} → clientIp null, not local`, () => {
      assertRemote(locality(viaProxy("10.0.0.2", xff), ["10.0.0.0/8"]), null);
    });
  }
});

describe("browser Origin", () => {
  test("Origin present → browserOrigin true (locality itself unchanged)", () => {
    const r = locality(transport({ origin: "http://127.0.0.1:18789" }));
    assert.equal(r.browserOrigin, true);
    assert.equal(r.directLocal, true);
  });

  test("Origin 'null' (sandboxed page) still counts as a browser", () => {
    assert.equal(locality(transport({ origin: "null" })).browserOrigin, true);
  });

  test("Origin present on a remote connection → browserOrigin true", () => {
    assert.equal(
      locality(transport({ peerAddress: "203.0.113.7", origin: "https://evil.example" })).browserOrigin,
      true,
    );
  });

  test("Origin present with untrusted proxy headers → browserOrigin still reported", () => {
    assert.equal(
      locality(viaProxy("198.51.100.20", "127.0.0.1", { origin: "https://x.example" })).browserOrigin,
      true,
    );
  });

  test("absent or blank Origin → browserOrigin false", () => {
    assert.equal(locality(transport({ origin: null })).browserOrigin, false);
    assert.equal(locality(transport({ origin: "" })).browserOrigin, false);
    assert.equal(locality(transport({ origin: "   " })).browserOrigin, false);
  });

  test("the Origin an approver is shown: normalized, on every path, null without one", () => {
    assert.equal(
      locality(transport({ origin: "HTTPS://Tools.Example:443" })).origin,
      "https://tools.example",
    );
    assert.equal(
      locality(viaProxy("198.51.100.20", "127.0.0.1", { origin: "http://x.example:8080" })).origin,
      "http://x.example:8080",
    );
    assert.equal(
      locality(viaProxy("127.0.0.1", null, { origin: "https://y.example" }), ["127.0.0.1"]).origin,
      "https://y.example",
    );
    assert.equal(locality(transport({ origin: "null" })).origin, "null");
    assert.equal(locality(transport({ origin: null })).origin, null);
    assert.equal(locality(transport({ origin: "  " })).origin, null);
  });

  test("an Origin that is no http(s) origin is shown bounded, its control and direction characters replaced", () => {
    const shown = locality(transport({ origin: "chrome-extension://abc\u001b[2J\u202egood.example" })).origin;
    assert.equal(shown, "chrome-extension://abc?[2J?good.example");
    assert.equal(shownOrigin("x".repeat(5_000))?.length, 200);
  });
});

describe("Host header helpers", () => {
  const names: [string, string][] = [
    ["127.0.0.1:18789", "127.0.0.1"],
    ["LOCALHOST:18789", "localhost"],
    ["[::1]:18789", "::1"],
    ["[::1]", "::1"],
    ["::1", "::1"],
    ["gw.example", "gw.example"],
  ];
  for (const [host, expected] of names) {
    test(`hostName(${host}) = ${expected}`, () => assert.equal(hostName(host), expected));
  }

  test("isLoopbackHostHeader", () => {
    for (const h of [
      "localhost",
      "localhost:1",
      "127.0.0.1:18789",
      "[::1]:18789",
      "::1",
      "[::ffff:127.0.0.1]:1",
    ]) {
      assert.equal(isLoopbackHostHeader(h), true, h);
    }
    for (const h of [null, "", "foo.ts.net", "evil.example:127.0.0.1", "[::1", "localhost.", "127.1"]) {
      assert.equal(isLoopbackHostHeader(h), false, String(h));
    }
  });
});
