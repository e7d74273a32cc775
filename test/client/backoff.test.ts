import { strict as assert } from "node:assert";
import { test } from "node:test";
import { backoffDelay, resolveReconnectOptions } from "../../src/client/backoff.js";

test("backoff grows exponentially, is capped, and jitters within the upper half", () => {
  const opts = resolveReconnectOptions({});
  assert.deepEqual(opts, { initialDelayMs: 500, maxDelayMs: 30_000, factor: 2 });
  const low = (n: number) => backoffDelay(n, opts, () => 0);
  const high = (n: number) => backoffDelay(n, opts, () => 1);
  assert.deepEqual([1, 2, 3, 4].map(low), [250, 500, 1000, 2000]);
  assert.deepEqual([1, 2, 3, 4].map(high), [500, 1000, 2000, 4000]);
  assert.equal(high(20), 30_000);
  assert.equal(low(20), 15_000);
  const seen = new Set(Array.from({ length: 20 }, () => backoffDelay(3, opts)));
  assert.ok(seen.size > 1, "jitter varies");
});
