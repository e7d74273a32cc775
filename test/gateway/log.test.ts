/**
 * The gateway's stdout log is written in batches (src/gateway/log.ts). These tests run a logger in
 * a child process with stdout on a pipe, as under a supervisor, and read what reached the pipe.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";

const LOG_MODULE = new URL("../../src/gateway/log.js", import.meta.url).href;

/** Runs `body` (an ES module body with `log` in scope) in a child; its stdout lines and exit status. */
function runLogger(body: string): { lines: string[]; status: number | null } {
  const source = `import { createLogger } from ${JSON.stringify(LOG_MODULE)};\nconst log = createLogger("text");\n${body}`;
  const res = spawnSync(process.execPath, ["--input-type=module", "-e", source], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 20_000,
  });
  return {
    lines: res.stdout.split("\n").filter((l) => l !== ""),
    status: res.status,
  };
}

/** The event names of text log lines (`<ts> <event> k=v…`), and other lines as they are. */
const events = (lines: string[]) => lines.map((l) => (/^\d{4}-/.test(l) ? l.split(" ")[1] : l));

describe("gateway log batching", () => {
  it("a wall clock set back does not hold the lines written after it", () => {
    const { lines } = runLogger(`
      log.log("info", "before");
      setTimeout(() => {
        // The wall clock steps back an hour (an NTP correction, a clock set by hand).
        const real = Date.now;
        Date.now = () => real() - 3_600_000;
        log.log("info", "after");
        // Well past the 50 ms cadence, the line must have been written; the marker goes out directly.
        setTimeout(() => process.stdout.write("marker\\n"), 500);
      }, 20);
    `);
    assert.deepEqual(events(lines), ["before", "after", "marker"]);
  });

  it("lines still held when the process ends are written, by an uncaught exception too", () => {
    const { lines, status } = runLogger(`
      log.log("info", "one");
      setTimeout(() => {
        // Inside the 50 ms cadence after the first write: these two are held.
        log.log("info", "two");
        log.log("error", "three");
        throw new Error("crash");
      }, 5);
    `);
    assert.notEqual(status, 0);
    assert.deepEqual(events(lines), ["one", "two", "ERROR"]);
  });
});
