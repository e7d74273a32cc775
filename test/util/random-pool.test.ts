/**
 * The client's random bytes (src/util/random-pool.ts): fresh bytes across refills of the pool, read
 * from /dev/urandom only when it is a character device (a plain file planted there is not random).
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fillFromDevice, freshRandom } from "../../src/util/random-pool.js";

describe("random bytes from the pool", () => {
  it("hands out the bytes asked for, never the same run twice, across several refills", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const bytes = freshRandom(16);
      assert.equal(bytes.length, 16);
      seen.add(bytes.toString("hex"));
    }
    // 48,000 bytes: the 4 KiB pool was filled about a dozen times; a refill that repeated the pool
    // would repeat its 256 runs of 16 bytes.
    assert.equal(seen.size, 3000);
    const all = Buffer.concat([...seen].map((h) => Buffer.from(h, "hex")));
    const counts = new Array<number>(256).fill(0);
    for (const b of all) counts[b]!++;
    // Each byte value about 187 times; a fill of zeros or of any constant would be far off.
    assert.ok(
      Math.min(...counts) > 100 && Math.max(...counts) < 300,
      `byte counts ${Math.min(...counts)}–${Math.max(...counts)}`,
    );
  });

  it("reads /dev/urandom, and refuses a plain file or a missing path in its place", () => {
    const buf = Buffer.alloc(64);
    assert.equal(fillFromDevice(buf), true);
    assert.notDeepEqual(buf, Buffer.alloc(64));
    const dir = mkdtempSync(join(tmpdir(), "random-pool-"));
    try {
      const planted = join(dir, "urandom");
      writeFileSync(planted, Buffer.alloc(8192, 7));
      assert.equal(
        fillFromDevice(Buffer.alloc(64), planted),
        false,
        "a plain file is not the kernel's CSPRNG",
      );
      assert.equal(fillFromDevice(Buffer.alloc(64), join(dir, "missing")), false);
      assert.equal(fillFromDevice(Buffer.alloc(64), "/dev/null"), false, "a device that reads nothing");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
