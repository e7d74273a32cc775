/**
 * The settled-RSS reading of the memory rows (bench/rss.ts) on scripted readings: a process that
 * sits flat for 8 s and then falls (V8's memory reducer after a start) is not taken as settled
 * before the fall, and the cap bounds a process that keeps falling.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { settleReadings, type Sampler } from "../../bench/rss.js";

/** Readings by time (ms → bytes: the last step at or before now), on a clock only `sleep` moves. */
function scripted(steps: ReadonlyArray<[atMs: number, bytes: number]>): Sampler {
  let now = 0;
  return {
    read: () => steps.filter(([at]) => at <= now).at(-1)![1],
    now: () => now,
    sleep: (ms) => {
      now += ms;
      return Promise.resolve();
    },
  };
}

const MB = 1e6;

describe("settleReadings", () => {
  it("waits through a flat 8 s and takes the reading after the fall", async () => {
    const s = await settleReadings(
      scripted([
        [0, 64.3 * MB],
        [8000, 61.8 * MB],
        [8500, 59.9 * MB],
      ]),
    );
    assert.equal(s.rss, 59.9 * MB);
    assert.equal(s.capped, false);
    assert.equal(s.waitedMs, 18_500); // the last fall, then 10 s without one
  });

  it("a rise is not a fall: it does not restart the quiet window", async () => {
    const s = await settleReadings(
      scripted([
        [0, 100 * MB],
        [5000, 101 * MB],
      ]),
    );
    assert.equal(s.rss, 101 * MB);
    assert.equal(s.waitedMs, 10_000);
  });

  it("stops at the cap while it still falls", async () => {
    const falling = Array.from({ length: 200 }, (_, i): [number, number] => [i * 1000, (200 - i) * MB]);
    const s = await settleReadings(scripted(falling), { capMs: 20_000 });
    assert.equal(s.capped, true);
    assert.equal(s.waitedMs, 20_000);
    assert.equal(s.rss, 180 * MB);
  });

  it("a short quiet window takes the flat start for settled (why the benches wait 10 s)", async () => {
    const s = await settleReadings(
      scripted([
        [0, 64.3 * MB],
        [8000, 59.9 * MB],
      ]),
      { quietMs: 2000 },
    );
    assert.equal(s.rss, 64.3 * MB);
  });
});
