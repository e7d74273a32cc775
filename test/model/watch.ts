/**
 * Hangs in the model tests become failures that say where they hung. fast-check's own `timeout`
 * and `interruptAfterTimeLimit` end a run that does not settle, but they abandon it: its gateway
 * keeps running, the test file's process cannot exit, and the runner's 10-minute timeout is what
 * gets reported. Here every step runs against a deadline of its own (and the sequence against
 * one); past it the sequence fails naming the step, what it was awaiting and for how long, and
 * what the gateway was doing — and the gateway and its children are killed, so nothing of the
 * sequence outlives it.
 */
import type fc from "fast-check";

/** What is being awaited right now, by the current sequence. */
const inFlight = new Map<number, { what: string; since: number; generation: number }>();
let nextAwait = 0;
/** Bumped at every sequence's start: what an abandoned sequence still awaits is not reported. */
let generation = 0;

/** Awaits `p`, listed under `what` while it is pending (for the report of a hang). */
export async function awaiting<T>(what: string, p: Promise<T>): Promise<T> {
  const id = nextAwait++;
  inFlight.set(id, { what, since: Date.now(), generation });
  try {
    return await p;
  } finally {
    inFlight.delete(id);
  }
}

/** What the current sequence awaits, oldest first, with how long each has been pending. */
export function awaitingNow(now = Date.now()): string[] {
  return [...inFlight.values()]
    .filter((x) => x.generation === generation)
    .sort((a, b) => a.since - b.since)
    .map((x) => `${x.what} (pending ${((now - x.since) / 1000).toFixed(1)} s)`);
}

/** The deadlines running now. */
const deadlines = new Set<NodeJS.Timeout>();

/** Resolves after `ms` with `value`, unless cancelled (or `stopWatching()` came first). */
export function after<T>(ms: number, value: T): { promise: Promise<T>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<T>((resolve) => {
    timer = setTimeout(() => {
      deadlines.delete(timer!);
      resolve(value);
    }, ms);
    deadlines.add(timer);
  });
  return {
    promise,
    cancel: () => {
      clearTimeout(timer);
      deadlines.delete(timer!);
    },
  };
}

/**
 * Drops every deadline still running: those of a sequence fast-check abandoned when its time limit
 * came (after `GatewayUnderTest.killAll()`), which would otherwise hold the test file's process
 * for minutes, to report a hang nobody waits for. Only between sequences.
 */
export function stopWatching(): void {
  for (const t of deadlines) clearTimeout(t);
  deadlines.clear();
}

const TIMED_OUT = Symbol("timed out");

/** `p`'s value, or TIMED_OUT after `ms` (then `p` is abandoned: its rejection is swallowed). */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  const t = after(ms, TIMED_OUT);
  p.catch(() => {});
  try {
    return await Promise.race([p, t.promise]);
  } finally {
    t.cancel();
  }
}

export function timedOut<T>(v: T | typeof TIMED_OUT): v is typeof TIMED_OUT {
  return v === TIMED_OUT;
}

/** What a hang report is made of, and how the sequence's resources are killed after one. */
export interface Watched {
  /** What the step is doing right now (its own sub-steps name themselves). */
  readonly step: string;
  /** The gateway's side of the report: its process tree, its last log lines. */
  diagnose(): string;
  /** Kills the gateway and everything it started, and closes every socket. */
  abort(): Promise<void>;
}

export interface SequenceLimits {
  /** A step running longer is hung. */
  stepMs: number;
  /** The sequence running longer is hung (whichever step it is in). */
  sequenceMs: number;
}

/** Where the current sequence is, for a report made from outside it (the time limit's). */
let current: { index: number; name: string; since: number; watched: Watched } | null = null;

/** The step the current sequence is in, as a hang report names it; null between sequences. */
export function currentStep(): string | null {
  if (!current) return null;
  const secs = ((Date.now() - current.since) / 1000).toFixed(1);
  return `step ${current.index + 1}, ${current.name} (now: ${current.watched.step || "-"}), running ${secs} s`;
}

/** Marks the start of a sequence: what earlier ones left pending is not this one's. */
export function newSequence(): void {
  generation++;
  current = null;
}

/**
 * Runs the commands as fast-check's asyncModelRun does (each whose check passes, in order), each
 * against its deadline: a step past it fails the sequence with a report of the hang, after the
 * sequence's resources are killed (so that the abandoned step ends too, or at least holds nothing).
 */
export async function runWatched<M extends object, R>(
  cmds: Iterable<fc.AsyncCommand<M, R>>,
  model: M,
  real: R,
  watched: Watched,
  limits: SequenceLimits,
): Promise<void> {
  const started = Date.now();
  let index = 0;
  try {
    for (const cmd of cmds) {
      if (!(await cmd.check(model))) continue;
      const name = String(cmd);
      const stepStarted = Date.now();
      current = { index, name, since: stepStarted, watched };
      const leftForSequence = limits.sequenceMs - (stepStarted - started);
      const ms = Math.max(0, Math.min(limits.stepMs, leftForSequence));
      const ran = await within(cmd.run(model, real), ms);
      if (timedOut(ran)) {
        const which =
          ms === limits.stepMs
            ? `did not finish within ${limits.stepMs / 1000} s`
            : `was running when the sequence reached its ${limits.sequenceMs / 1000} s limit`;
        const report = hangReport(`step ${index + 1}, ${name}, ${which}: a hang`, watched);
        const killed = await watched.abort().then(
          () => "",
          (err: unknown) => `\n  and killing it failed: ${err instanceof Error ? err.message : String(err)}`,
        );
        throw new Error(report + killed);
      }
      index++;
    }
  } finally {
    current = null;
  }
}

/** The report of a hang: the step, what it awaited, and the gateway's side. */
export function hangReport(what: string, watched: Watched): string {
  const pending = awaitingNow();
  return [
    what,
    `  now: ${watched.step || "-"}`,
    `  awaiting: ${pending.length > 0 ? pending.join("; ") : "nothing the test tracks"}`,
    watched.diagnose(),
  ]
    .filter((l) => l !== "")
    .join("\n");
}
