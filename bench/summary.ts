/**
 * Prints issue 15's table from the rows the bench files reported (`bench/report.ts`): every row,
 * measured or not, with its goal, whether it is met, and OpenClaw's figure and the ratio where the
 * peer ran. `npm run bench` runs it last; alone: `node dist/bench/summary.js <rows file>`.
 */
import { existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { spawnSync } from "node:child_process";
import { FIGURES, median, type FigureKey, type FigureSpec, type ReportedRow } from "./report.js";

/** `node -e 0` starts timed for the machine reference line. */
const BARE_RUNS = 9;

const file = process.argv[2] ?? process.env.GATEHOUSE_BENCH_ROWS;
const rows: ReportedRow[] =
  file && existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as ReportedRow)
    : [];

/** The last figure reported for a key by whom (a bench run twice keeps its later figure). */
function latest(key: FigureKey, who: ReportedRow["peer"]): ReportedRow | undefined {
  return rows.filter((r) => r.key === key && r.peer === who).at(-1);
}

const fmt = (spec: FigureSpec, v: number) => `${v.toFixed(spec.digits)} ${spec.unit}`;

const table: string[][] = [
  ["figure", "Gatehouse", "goal", "met", "OpenClaw 2026.9.6", "Gatehouse better by"],
];
let met = 0;
let measured = 0;
let peerRan = false;
for (const [key, spec] of Object.entries(FIGURES) as Array<[FigureKey, FigureSpec]>) {
  const own = latest(key, undefined);
  const peer = latest(key, "openclaw");
  const goal = `${spec.goal.kind === "at-most" ? "≤" : "≥"} ${fmt(spec, spec.goal.value)}`;
  let ok = "";
  if (own) {
    measured++;
    const pass = spec.goal.kind === "at-most" ? own.value <= spec.goal.value : own.value >= spec.goal.value;
    if (pass) met++;
    ok = pass ? "yes" : "NO";
  }
  if (peer) peerRan = true;
  // How many times better Gatehouse is: OpenClaw/Gatehouse for times and sizes, the inverse for rates.
  const ratio =
    own && peer && own.value > 0 && peer.value > 0
      ? `${(spec.goal.kind === "at-most" ? peer.value / own.value : own.value / peer.value).toFixed(1)}×`
      : "";
  table.push([
    spec.label,
    own ? `${fmt(spec, own.value)}${own.how ? ` (${own.how})` : ""}` : "not measured",
    goal,
    ok,
    peer ? fmt(spec, peer.value) : "",
    ratio,
  ]);
}

const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
const line = (r: string[]) =>
  r
    .map((c, i) => c.padEnd(widths[i]!))
    .join("  ")
    .trimEnd();
console.log("");
console.log("issue 15: figures and goals");
console.log(line(table[0]!));
console.log(line(widths.map((w) => "-".repeat(w))));
for (const r of table.slice(1)) console.log(line(r));
console.log("");
console.log(
  `${met} of ${measured} measured goals met; ${Object.keys(FIGURES).length - measured} not measured.`,
);
if (!peerRan) console.log(`${whyNoPeer(process.env.BENCH_ONLY)}: no ratios this run.`);
printFloors();

/**
 * The rows measured against the floor as well (bench/handshake-floor.ts, same client, same run):
 * what Gatehouse reaches of it, and where its goal lies against it. A goal beyond the floor is
 * beyond any gateway on this machine, whatever its code.
 */
function printFloors(): void {
  for (const [key, spec] of Object.entries(FIGURES) as Array<[FigureKey, FigureSpec]>) {
    const floor = latest(key, "floor");
    if (!floor) continue;
    const own = latest(key, undefined);
    // As a share of the floor's performance: the floor's time over ours, or our rate over the floor's.
    const share = (v: number) =>
      `${Math.round((spec.goal.kind === "at-most" ? floor.value / v : v / floor.value) * 100)} %`;
    console.log(
      `floor of "${spec.label}": ${fmt(spec, floor.value)}${floor.how ? ` (${floor.how})` : ""}` +
        (own ? `; Gatehouse at ${share(own.value)} of it` : "") +
        `; the goal asks for ${share(spec.goal.value)} of it.`,
    );
  }
}
/** Why OpenClaw's figures are missing: left out by BENCH_ONLY (the same word match dev.mjs uses), or no peer. */
function whyNoPeer(only: string | undefined): string {
  const words = (only ?? "").split(",").filter((w) => w !== "");
  if (words.length > 0 && !words.some((w) => "openclaw.bench.js".includes(w))) {
    return `OpenClaw's bench was left out (BENCH_ONLY=${only})`;
  }
  return "OpenClaw peer not installed (node scripts/openclaw-peer.mjs installs it, once)";
}

printMachineReference();

/**
 * Bare Node's start on this machine, and what the NODE_EXTRA_CA_CERTS `npm run bench` left out
 * (scripts/dev.mjs) would add to every process: the yardstick for reading the start-up rows on a
 * machine other than the one the goals were set on (`node -e 0`: 0.07 s).
 */
function printMachineReference(): void {
  const removed = process.env.GATEHOUSE_BENCH_REMOVED_CA_CERTS;
  const bare = bareNodeStartMs(process.env);
  let line = `bare \`node -e 0\` on this machine: ${bare.toFixed(0)} ms (median of ${BARE_RUNS})`;
  if (removed) {
    const withCerts = bareNodeStartMs({ ...process.env, NODE_EXTRA_CA_CERTS: removed });
    line +=
      `; NODE_EXTRA_CA_CERTS (${removed}) was set in this shell and left out of every bench: ` +
      `with it bare Node takes ${withCerts.toFixed(0)} ms (BENCH_KEEP_ENV=1 keeps it)`;
  }
  console.log(line + ".");
}

/** Median wall time of `node -e 0` in `env`, ms. */
function bareNodeStartMs(env: NodeJS.ProcessEnv): number {
  const runs: number[] = [];
  for (let i = 0; i < BARE_RUNS; i++) {
    const t0 = process.hrtime.bigint();
    spawnSync(process.execPath, ["-e", "0"], { env, stdio: "ignore" });
    runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(runs);
}

const [l1, l5] = loadavg();
console.log(`load average at the end: ${l1!.toFixed(2)} (1 min), ${l5!.toFixed(2)} (5 min) on this machine.`);
