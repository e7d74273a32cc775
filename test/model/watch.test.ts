/**
 * The model tests' guards against hangs (watch.ts, wire.ts): a step that never settles fails its
 * sequence at its deadline, naming the step and what it awaited, and its gateway and sockets are
 * gone afterwards; a gateway that does not exit on SIGTERM is reported and killed, not waited for.
 * Without them a hang showed as the runner's 10-minute timeout and nothing else.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type fc from "fast-check";
import type { Model } from "./reference.js";
import { awaiting, newSequence, runWatched, type Watched } from "./watch.js";
import { newModel, Real, Coverage, openRoots } from "./world.js";
import { GatewayUnderTest } from "./wire.js";

type Cmd = fc.AsyncCommand<Model, Real>;

function step(name: string, run: (m: Model, r: Real) => Promise<void>, check = true): Cmd {
  return { check: () => check, run, toString: () => name };
}

const never = new Promise<void>(() => {});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("model test guards", () => {
  it("a step that never settles fails at its deadline, named, with what it awaited", async () => {
    newSequence();
    let aborted = 0;
    const watched: Watched = {
      step: "waiting for Godot",
      diagnose: () => "  (the gateway's side)",
      abort: async () => void aborted++,
    };
    const ran: string[] = [];
    const cmds = [
      step("first", async () => void ran.push("first")),
      step("skipped", async () => void ran.push("skipped"), false),
      step("stuck(#3)", () => awaiting("a reply that never comes", never)),
      step("after", async () => void ran.push("after")),
    ];
    const started = Date.now();
    await assert.rejects(
      runWatched(cmds, newModel(), {} as Real, watched, { stepMs: 300, sequenceMs: 10_000 }),
      (err: Error) => {
        assert.match(err.message, /^step 2, stuck\(#3\), did not finish within 0.3 s: a hang/);
        assert.match(err.message, /now: waiting for Godot/);
        assert.match(err.message, /awaiting: a reply that never comes \(pending 0\.\d s\)/);
        assert.match(err.message, /\(the gateway's side\)/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 5000, "the deadline, not anything later, ended it");
    assert.deepEqual(ran, ["first"]);
    assert.equal(aborted, 1);
  });

  it("the sequence's own limit ends a step that is within its step deadline", async () => {
    newSequence();
    const watched: Watched = { step: "", diagnose: () => "", abort: async () => {} };
    const cmds = [step("slow", () => new Promise((r) => setTimeout(r, 250))), step("stuck", () => never)];
    await assert.rejects(
      runWatched(cmds, newModel(), {} as Real, watched, { stepMs: 60_000, sequenceMs: 400 }),
      /step 2, stuck, was running when the sequence reached its 0.4 s limit: a hang/,
    );
  });

  it("after a hang the gateway and every socket to it are gone, and the report shows its processes", async () => {
    newSequence();
    const gw = await GatewayUnderTest.start();
    const real = new Real(gw, new Coverage());
    try {
      const model = newModel();
      await openRoots(model, real);
      const pid = gw.pid!;
      const owner = [...real.conns.values()][0]!;
      const cmds = [step("stuck", () => awaiting("nothing", never))];
      await assert.rejects(
        runWatched(cmds, model, real, real, { stepMs: 500, sequenceMs: 10_000 }),
        (err: Error) => {
          assert.match(err.message, /^step 1, stuck, did not finish/);
          assert.match(err.message, new RegExp(`gateway pid ${pid}: running`));
          assert.match(err.message, /clock-gateway\.js/, "its process list names it");
          assert.match(err.message, /"event":"gateway listening"/, "its last log lines are there");
          return true;
        },
      );
      assert.equal(alive(pid), false, "the gateway was killed");
      assert.ok(await owner.closedWithin(2000), "the owner's socket was ended");
    } finally {
      await real.dispose();
    }
  });

  it("a gateway that does not exit on SIGTERM is reported and killed, not waited for", async () => {
    const gw = await GatewayUnderTest.start();
    const pid = gw.pid!;
    // Stopped: SIGTERM stays pending, as with a gateway whose shutdown never finishes.
    process.kill(pid, "SIGSTOP");
    const started = Date.now();
    const { problem } = await gw.dispose(500);
    assert.ok(Date.now() - started < 8000, `dispose took ${Date.now() - started} ms`);
    assert.match(problem ?? "", /^the gateway did not exit within 0.5 s of SIGTERM/);
    assert.match(problem ?? "", new RegExp(`gateway pid ${pid}: running`));
    assert.match(problem ?? "", new RegExp(`${pid} \\d+ T `), "its process list shows it stopped");
    assert.equal(alive(pid), false);
    assert.equal(await GatewayUnderTest.killAll(), 0, "nothing left to kill");
  });
});
