import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isIPv4 } from "node:net";
import fc from "fast-check";
import { canonicalIp, ipInAnyRange, ipInRange, isLoopbackIp, parseIp } from "../../src/policy/ip.js";

const v6 = (...tail: number[]) => [...Array<number>(16 - tail.length).fill(0), ...tail];

describe("parseIp", () => {
  test("dotted IPv4", () => {
    assert.deepEqual(parseIp("127.0.0.1"), { family: 4, bytes: [127, 0, 0, 1] });
    assert.deepEqual(parseIp(" 10.0.0.255 "), { family: 4, bytes: [10, 0, 0, 255] });
    assert.deepEqual(parseIp("0.0.0.0"), { family: 4, bytes: [0, 0, 0, 0] });
  });

  test("IPv4-mapped IPv6 (dotted tail) folds to IPv4", () => {
    assert.deepEqual(parseIp("::ffff:127.0.0.1"), { family: 4, bytes: [127, 0, 0, 1] });
    assert.deepEqual(parseIp("::FFFF:10.1.2.3"), { family: 4, bytes: [10, 1, 2, 3] });
    assert.deepEqual(parseIp("0:0:0:0:0:ffff:1.2.3.4"), { family: 4, bytes: [1, 2, 3, 4] });
  });

  test("IPv4-mapped IPv6 in hex form (::FFFF:7f00:1) also folds to IPv4 127.0.0.1", () => {
    assert.deepEqual(parseIp("::FFFF:7f00:1"), { family: 4, bytes: [127, 0, 0, 1] });
    assert.deepEqual(parseIp("[::ffff:c633:6409]"), { family: 4, bytes: [198, 51, 100, 9] });
  });

  test("IPv4-compatible (::a.b.c.d, not mapped) stays IPv6", () => {
    assert.deepEqual(parseIp("::1.2.3.4"), { family: 6, bytes: v6(1, 2, 3, 4) });
  });

  test("IPv6 with brackets and zone ids", () => {
    assert.deepEqual(parseIp("::1"), { family: 6, bytes: v6(1) });
    assert.deepEqual(parseIp("[::1]"), { family: 6, bytes: v6(1) });
    assert.deepEqual(parseIp("fe80::1%eth0"), { family: 6, bytes: [0xfe, 0x80, ...v6(1).slice(2)] });
    assert.deepEqual(parseIp("[fe80::1%25en0]"), parseIp("fe80::1"));
    assert.deepEqual(parseIp("::"), { family: 6, bytes: v6() });
    assert.deepEqual(parseIp("2001:DB8::A"), parseIp("2001:db8:0:0:0:0:0:a"));
  });

  const invalid = [
    "",
    "   ",
    "1.2.3",
    "256.1.1.1",
    "1.2.3.256",
    "01.2.3.4",
    "1.02.3.4",
    "1.2.3.4.5",
    "1.2.3.-1",
    "1..2.3",
    "1.2.3.4.",
    ".1.2.3",
    "00.1.2.3",
    "1.2.3.0255",
    "1.2.3.1000",
    "1.2.3.4:80",
    "a.b.c.d",
    "localhost",
    "::1::",
    "1::2::3",
    "gggg::",
    ":::1",
    "12345::",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1::2:3:4:5:6:7:8",
    "::ffff:256.0.0.1",
    "::ffff:1.2.3",
    "[::1",
    "::1]",
    "[]",
  ];
  for (const text of invalid) {
    test(`rejects ${JSON.stringify(text)}`, () => {
      assert.equal(parseIp(text), null);
      assert.equal(canonicalIp(text), null);
      assert.equal(isLoopbackIp(text), false);
    });
  }

  test("dotted IPv4 is exactly what Node's isIPv4 accepts (no leading zeros), with the parts as bytes", () => {
    const part = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.stringMatching(/^[0-9]{0,4}$/));
    const candidate = fc.oneof(
      fc.array(part, { minLength: 3, maxLength: 5 }).map((parts) => parts.join(".")),
      fc.stringMatching(/^[0-9.]{0,16}$/),
    );
    fc.assert(
      fc.property(candidate, (text) => {
        const parsed = parseIp(text);
        assert.equal(parsed !== null, isIPv4(text), text);
        if (parsed) assert.deepEqual(parsed, { family: 4, bytes: text.split(".").map(Number) });
      }),
      { numRuns: 2000 },
    );
  });
});

describe("canonicalIp", () => {
  const cases: [string, string][] = [
    ["127.0.0.1", "127.0.0.1"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::FFFF:7f00:1", "127.0.0.1"],
    ["[::ffff:198.51.100.9]", "198.51.100.9"],
    ["[::1]", "::1"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["::", "::"],
    ["1::", "1::"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    // A single zero group is not compressed (RFC 5952 §4.2.2).
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    // The longest run is compressed; the first one on a tie.
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["1:0:0:2:0:0:3:4", "1::2:0:0:3:4"],
    ["fe80::1%eth0", "fe80::1"],
    ["::1.2.3.4", "::102:304"],
  ];
  for (const [input, expected] of cases) {
    test(`${input} → ${expected}`, () => {
      assert.equal(canonicalIp(input), expected);
    });
  }

  test("canonical forms are fixed points", () => {
    for (const [, expected] of cases) assert.equal(canonicalIp(expected), expected);
  });
});

describe("isLoopbackIp", () => {
  const yes = [
    "127.0.0.1",
    "127.5.6.7",
    "127.255.255.255",
    "::1",
    "[::1]",
    "0:0:0:0:0:0:0:1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
  ];
  const no = [
    "128.0.0.1",
    "126.255.255.255",
    "::2",
    "::",
    "0.0.0.0",
    "10.0.0.1",
    "::ffff:128.0.0.1",
    "fe80::1",
  ];
  for (const ip of yes) test(`${ip} is loopback`, () => assert.equal(isLoopbackIp(ip), true));
  for (const ip of no) test(`${ip} is not loopback`, () => assert.equal(isLoopbackIp(ip), false));
});

describe("ipInRange", () => {
  const rows: [string, string, boolean][] = [
    ["10.1.2.3", "10.0.0.0/8", true],
    ["11.0.0.1", "10.0.0.0/8", false],
    ["172.31.255.255", "172.16.0.0/12", true],
    ["172.32.0.0", "172.16.0.0/12", false],
    ["172.15.255.255", "172.16.0.0/12", false],
    ["10.0.0.2", "10.0.0.2/32", true],
    ["10.0.0.3", "10.0.0.2/32", false],
    ["10.0.0.2", "10.0.0.2", true],
    ["10.0.0.3", "10.0.0.2", false],
    ["203.0.113.7", "0.0.0.0/0", true],
    ["127.0.0.1", "0.0.0.0/0", true],
    ["2001:db8::1", "::/0", true],
    ["2001:db8:1:2::5", "2001:db8:1:2::/64", true],
    ["2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64", true],
    ["2001:db8:1:3::5", "2001:db8:1:2::/64", false],
    ["::1", "::1/128", true],
    ["::2", "::1/128", false],
    ["[::1]", "::1", true],
    // Mapped addresses are their IPv4 address.
    ["::ffff:10.0.0.2", "10.0.0.0/8", true],
    ["10.0.0.2", "::ffff:10.0.0.2", true],
    // Family mismatch never matches, even with /0.
    ["10.0.0.1", "::/0", false],
    ["2001:db8::1", "0.0.0.0/0", false],
    ["::1", "127.0.0.0/8", false],
    // Malformed input never matches.
    ["10.0.0.1", "10.0.0.0/33", false],
    ["::1", "::/129", false],
    ["10.0.0.1", "10.0.0.0/abc", false],
    ["10.0.0.1", "10.0.0.0/1.5", false],
    ["10.0.0.1", "garbage/8", false],
    ["10.0.0.1", "10.0.0/8", false],
    ["10.0.0.1", "", false],
    ["10.0.0.1", "/8", false],
    ["not-an-ip", "0.0.0.0/0", false],
    ["", "0.0.0.0/0", false],
  ];
  for (const [address, range, expected] of rows) {
    test(`${address} in ${JSON.stringify(range)} → ${expected}`, () => {
      assert.equal(ipInRange(address, range), expected);
    });
  }

  test("a malformed prefix (empty, signed, or doubled) matches nothing instead of acting as /0 or /8", () => {
    for (const range of ["10.0.0.0/", "10.0.0.0/-0", "10.0.0.0/8/9", "::/"]) {
      for (const address of ["203.0.113.7", "10.1.2.3", "2001:db8::1"]) {
        assert.equal(ipInRange(address, range), false, `${address} in ${JSON.stringify(range)}`);
      }
    }
  });

  test("ipInAnyRange: any match, empty list never, malformed entries skipped", () => {
    assert.equal(ipInAnyRange("10.0.0.2", []), false);
    assert.equal(ipInAnyRange("10.0.0.2", ["192.168.0.0/16", "10.0.0.0/8"]), true);
    assert.equal(ipInAnyRange("10.0.0.2", ["bogus", "10.0.0.2/32"]), true);
    assert.equal(ipInAnyRange("8.8.8.8", ["bogus", "10.0.0.0/8", "::/0"]), false);
  });
});
