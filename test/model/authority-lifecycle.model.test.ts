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
 */
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { clockArbitraries } from "./clock.js";
import { commandArbitraries } from "./commands.js";
import { nodeArbitraries } from "./node.js";
import { workArbitraries } from "./work.js";
import { Coverage, newModel, openRoots, Real } from "./world.js";
import { GatewayUnderTest } from "./wire.js";

const STRESS = process.env.GATEHOUSE_STRESS === "1";
const RUNS = Number(process.env.GATEHOUSE_MODEL_RUNS ?? (STRESS ? 160 : 8));
const MAX_COMMANDS = Number(process.env.GATEHOUSE_MODEL_STEPS ?? (STRESS ? 60 : 30));

/** Well under the runner's per-test ceiling (scripts/dev.mjs: 10 minutes). */
const TIME_LIMIT_MS = Number(process.env.GATEHOUSE_MODEL_TIME_LIMIT_MS ?? 300_000);
/** A sequence takes seconds (a scheduled cron run about 12 at most); minutes mean a step hangs. */
const SEQUENCE_TIMEOUT_MS = 120_000;

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
        const gw = await GatewayUnderTest.start();
        const real = new Real(gw, coverage);
        try {
          const model = newModel();
          await openRoots(model, real);
          coverage.sequences++;
          await fc.asyncModelRun(() => ({ model, real }), cmds);
        } finally {
          await real.dispose();
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
      interruptAfterTimeLimit: TIME_LIMIT_MS,
      // A step that never settles (a reply that never comes) fails its sequence with a replay line.
      timeout: SEQUENCE_TIMEOUT_MS,
    },
  );
  coverage.seeds.push(details.seed);
  if (details.interrupted && !details.failed) {
    console.log(
      `model: stopped at the ${TIME_LIMIT_MS / 1000} s limit after ${details.numRuns} of ${runs} sequences`,
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
}

const CHUNK = 20;
const given = process.env.GATEHOUSE_MODEL_SEED;

describe("authority lifecycle: the gateway agrees with the reference model after every step", () => {
  const chunks = given !== undefined || RUNS <= CHUNK ? 1 : Math.ceil(RUNS / CHUNK);
  for (let i = 0; i < chunks; i++) {
    const runs = chunks === 1 ? RUNS : Math.min(CHUNK, RUNS - i * CHUNK);
    it(`device management, setup codes, sessions, cron and restarts by callers of every authority (${runs} sequences of up to ${MAX_COMMANDS} steps${chunks > 1 ? `, part ${i + 1} of ${chunks}` : ""})`, async () => {
      await modelRun(runs, given !== undefined ? Number(given) : undefined);
    });
  }
});
