/**
 * Issue 11 item 5: random sequences of pairing, approval, rejection, rotation, revocation and
 * removal, setup codes minted and redeemed, sessions spawned (nested ones through their own
 * runtime tokens) and ended, cron jobs added, run and re-enabled, gateway restarts and kill -9, the
 * gateway's clock moved past pending requests' and setup codes' expiry (clock.ts), a node host
 * paired, its surface widened, its role revoked and its device removed (node.ts) — by callers of
 * every kind of authority — against the real gateway (its own process, real sockets, real SQLite),
 * compared after every step with the reference model (reference.ts): nothing admits or acts after
 * the grant it rests on was revoked, expired or its owner removed, no connection holds more than
 * its authority, a revoked slot comes back only through an approval, only the owner key touches
 * the owner device, and a node exposes only its approved surface and nothing once its role ended.
 *
 * `npm test` runs the fast variant; `npm run test:stress` (GATEHOUSE_STRESS=1) runs 20× more.
 * A failure prints the shrunk sequence, what disagreed, and the line that replays it: fast-check's
 * seed and path, and the commands' replay path (GATEHOUSE_MODEL_SEED, GATEHOUSE_MODEL_PATH,
 * GATEHOUSE_MODEL_REPLAY, with the same runs and steps); without the replay path fast-check cannot
 * walk the same shrink path through a command sequence. Every run prints its seeds.
 *
 * A hang fails too, in time and with the same replay line (watch.ts): a step past its deadline
 * fails its sequence naming the step, what it awaited and what the gateway was doing, and the
 * gateway and everything it started are killed; nothing a sequence started outlives the test.
 */
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { clockArbitraries } from "./clock.js";
import { commandArbitraries } from "./commands.js";
import { nodeArbitraries } from "./node.js";
import { workArbitraries } from "./work.js";
import { currentStep, newSequence, runWatched, stopWatching, timedOut, within } from "./watch.js";
import type { Model } from "./reference.js";
import { Coverage, newModel, openRoots, Real } from "./world.js";
import { GatewayUnderTest, terminateSockets } from "./wire.js";

const STRESS = process.env.GATEHOUSE_STRESS === "1";
const RUNS = Number(process.env.GATEHOUSE_MODEL_RUNS ?? (STRESS ? 160 : 8));
const MAX_COMMANDS = Number(process.env.GATEHOUSE_MODEL_STEPS ?? (STRESS ? 60 : 30));

/** Well under the runner's per-test ceiling (scripts/dev.mjs: 10 minutes). */
const TIME_LIMIT_MS = Number(process.env.GATEHOUSE_MODEL_TIME_LIMIT_MS ?? 300_000);
/**
 * A step takes seconds (a scheduled cron run about 12, a restart with sessions a few more; every
 * wait inside one is bounded well below this): a minute and a half means it hangs.
 */
const STEP_TIMEOUT_MS = Number(process.env.GATEHOUSE_MODEL_STEP_TIMEOUT_MS ?? 90_000);
/** A sequence takes seconds, half a minute on a loaded machine: minutes mean something hangs. */
const SEQUENCE_TIMEOUT_MS = Math.max(2 * STEP_TIMEOUT_MS, 6000 * MAX_COMMANDS);
/** Starting a gateway (60 s at most) and stopping it (bounded too), besides the steps. */
const SETUP_MS = 100_000;

const coverage = new Coverage();
after(() => console.log(coverage.report()));

/** A failing run's commands name the shrink path fast-check took through them; replay needs it. */
function replayPathOf(counterexample: unknown): string | null {
  return /replayPath="([^"]*)"/.exec(String(counterexample))?.[1] ?? null;
}

/** The command line that runs exactly this failing sequence again. */
function replayLine(seed: number, path: string, replayPath: string | null, runs: number): string {
  return [
    `GATEHOUSE_MODEL_SEED=${seed}`,
    `GATEHOUSE_MODEL_PATH=${path}`,
    ...(replayPath ? [`GATEHOUSE_MODEL_REPLAY='${replayPath}'`] : []),
    `GATEHOUSE_MODEL_RUNS=${runs}`,
    `GATEHOUSE_MODEL_STEPS=${MAX_COMMANDS}`,
    "node --test dist/test/model/",
  ].join(" ");
}

/**
 * One run of `runs` sequences. The stress variant is several such runs (each its own test under
 * the per-test ceiling), each with a seed of its own unless one is given. A given seed, path and
 * replay path (the three a failure prints) run just the failing sequence, shrunk as it was.
 */
async function modelRun(runs: number, seed: number | undefined): Promise<void> {
  const path = process.env.GATEHOUSE_MODEL_PATH;
  const replayPath = process.env.GATEHOUSE_MODEL_REPLAY;
  const details = await fc.check(
    fc.asyncProperty(
      fc.commands(
        [...commandArbitraries(), ...workArbitraries(), ...clockArbitraries(), ...nodeArbitraries()],
        {
          maxCommands: MAX_COMMANDS,
          size: "max",
          ...(replayPath ? { replayPath } : {}),
        },
      ),
      async (cmds) => {
        // Every wait in a sequence is bounded; this one bounds what a bug in those bounds would leave.
        const ran = await within(sequence(cmds), SEQUENCE_TIMEOUT_MS + SETUP_MS);
        if (timedOut(ran)) {
          const where = currentStep() ?? "starting or stopping the gateway";
          await GatewayUnderTest.killAll().catch(() => 0);
          terminateSockets();
          throw new Error(
            `the sequence did not end within ${(SEQUENCE_TIMEOUT_MS + SETUP_MS) / 1000} s: ${where}`,
          );
        }
      },
    ),
    {
      numRuns: runs,
      ...(seed !== undefined ? { seed } : {}),
      ...(path ? { path } : {}),
      verbose: 1,
      // Shrinking a failure restarts real gateways step by step and can outlast the test's ceiling,
      // which then reports a timeout instead of the failure: stop in time and report what was found.
      // (fast-check abandons the sequence it interrupts: its gateway is killed below.)
      interruptAfterTimeLimit: TIME_LIMIT_MS,
    },
  );
  const abandonedAt = currentStep();
  // Whatever an interrupted sequence left running goes now, or the test file could not exit.
  const abandoned = await GatewayUnderTest.killAll();
  terminateSockets();
  stopWatching();
  coverage.seeds.push(details.seed);
  if (details.interrupted) {
    console.log(
      `model: stopped at the ${TIME_LIMIT_MS / 1000} s limit after ${details.numRuns} of ${runs} sequences` +
        (abandonedAt ? `; the one under way was at ${abandonedAt}` : "") +
        (abandoned > 0 ? `; killed its gateway` : ""),
    );
  }
  if (details.failed) {
    const replay = replayLine(
      details.seed,
      details.counterexamplePath ?? "",
      replayPathOf(details.counterexample?.[0]),
      runs,
    );
    const why = details.errorInstance instanceof Error ? details.errorInstance.message : "";
    throw new Error(`${fc.defaultReportMessage(details)}\n\n${why}\n\nreplay: ${replay}`, {
      cause: details.errorInstance,
    });
  }
  // The test's name promises `runs` sequences: one that ran fewer has not covered what it claims.
  if (details.interrupted) {
    throw new Error(
      `only ${details.numRuns} of ${runs} sequences ran within the ${TIME_LIMIT_MS / 1000} s limit` +
        ` (none failed); replay: ${replayLine(details.seed, "", null, runs)}`,
    );
  }
}

/** One sequence: a gateway of its own, the roots' sessions, the steps (each watched), the clean-up. */
async function sequence(cmds: Iterable<fc.AsyncCommand<Model, Real>>): Promise<void> {
  newSequence();
  const gw = await GatewayUnderTest.start();
  const real = new Real(gw, coverage);
  let failure: { error: unknown } | null = null;
  try {
    const model = newModel();
    await openRoots(model, real);
    coverage.sequences++;
    await runWatched(cmds, model, real, real, { stepMs: STEP_TIMEOUT_MS, sequenceMs: SEQUENCE_TIMEOUT_MS });
  } catch (error) {
    failure = { error };
  }
  const { problem, leftBehind } = await real.dispose();
  coverage.leftBehind += leftBehind;
  if (failure) {
    // The stop's trouble may be the failure's cause (a session that would not end, say): say both.
    if (problem && failure.error instanceof Error)
      failure.error.message += `\n\nand then, stopping the gateway: ${problem}`;
    throw failure.error;
  }
  // A gateway that does not stop on SIGTERM is a failure of the sequence that got it there.
  if (problem) throw new Error(`stopping the gateway after the last step: ${problem}`);
}

const CHUNK = 20;
const given = process.env.GATEHOUSE_MODEL_SEED;

describe("authority lifecycle: the gateway agrees with the reference model after every step", () => {
  const chunks = given !== undefined || RUNS <= CHUNK ? 1 : Math.ceil(RUNS / CHUNK);
  for (let i = 0; i < chunks; i++) {
    const runs = chunks === 1 ? RUNS : Math.min(CHUNK, RUNS - i * CHUNK);
    const name = `device management, setup codes, sessions, cron and restarts by callers of every authority (${runs} sequences of up to ${MAX_COMMANDS} steps${chunks > 1 ? `, part ${i + 1} of ${chunks}` : ""})`;
    // The time limit plus a sequence's bound: should those guards ever fail, this still names the
    // test before the runner's ceiling does.
    it(name, { timeout: TIME_LIMIT_MS + SEQUENCE_TIMEOUT_MS + SETUP_MS }, async () => {
      await modelRun(runs, given !== undefined ? Number(given) : undefined);
    });
  }
});
