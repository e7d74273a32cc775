/**
 * The figures of issue 15's table, as every bench file reports them and the summary prints them.
 * A bench file measures, then calls `report(key, value)`; under `npm run bench` each row is
 * appended to the file `GATEHOUSE_BENCH_ROWS` names, and `bench/summary.ts` prints them all (with
 * each goal beside it, and OpenClaw's figure and the ratio when the peer ran) after the last bench.
 */
import { appendFileSync } from "node:fs";

/** A figure the summary knows: its label, unit and goal. */
export interface FigureSpec {
  label: string;
  unit: string;
  /** The goal; `at-most` for times and sizes, `at-least` for rates and ratios. */
  goal: { kind: "at-most" | "at-least"; value: number };
  /** Decimals to print. */
  digits: number;
}

/** A time or size: lower is better. */
const atMost = (label: string, unit: string, value: number, digits: number): FigureSpec => ({
  label,
  unit,
  goal: { kind: "at-most", value },
  digits,
});

/** A rate or ratio: higher is better. */
const atLeast = (label: string, unit: string, value: number, digits: number): FigureSpec => ({
  label,
  unit,
  goal: { kind: "at-least", value },
  digits,
});

/** Issue 15's rows, in its order. Add a key here before reporting it. */
export const FIGURES = {
  "health-wall": atMost(
    "CLI `health` wall time (`gatehouse health`; the peer: `openclaw health`)",
    "s",
    0.15,
    3,
  ),
  "gateway-start": atMost("gateway start → accepting connections", "s", 0.25, 3),
  "gateway-rss": atMost("gateway RSS after start (settled)", "MB", 55, 1),
  "callback-over-bare": atMost(
    "sub-agent call-back (load client, connect, health) over bare Node",
    "ms",
    40,
    1,
  ),
  "spawn-rate-vs-bare": atLeast(
    "sessions spawned and called back per second (8 concurrent), % of bare Node",
    "%",
    60,
    0,
  ),
  "paired-p50": atMost("paired-device handshake p50, sequential", "ms", 0.7, 3),
  "paired-rate": atLeast(
    "paired-device handshakes/s, 16 concurrent clients, 10,000 devices stored",
    "/s",
    3000,
    0,
  ),
  "deviceless-p50": atMost("device-less handshake p50", "ms", 0.5, 3),
  "held-conn-memory": atMost("memory per held connection (10,000 held, settled)", "KiB", 8, 1),
} satisfies Record<string, FigureSpec>;

export type FigureKey = keyof typeof FIGURES;

/**
 * One reported figure: Gatehouse's, or (with `peer`) the same measurement against OpenClaw, or
 * against the floor (a bare-Node server doing only what no gateway can skip: bench/handshake-floor.ts).
 */
export interface ReportedRow {
  key: FigureKey;
  value: number;
  /** "openclaw" for the peer's figure, "floor" for the floor's; absent for Gatehouse's own. */
  peer?: "openclaw" | "floor";
  /** How the value was taken, e.g. "median of 3 runs". */
  how?: string;
}

/** Records a figure for the summary (and prints it, so a bench run alone still shows it). */
export function report(key: FigureKey, value: number, extra: Omit<ReportedRow, "key" | "value"> = {}): void {
  const row: ReportedRow = { key, value, ...extra };
  const spec: FigureSpec = FIGURES[key];
  const who = row.peer === "openclaw" ? "OpenClaw" : row.peer === "floor" ? "floor" : "Gatehouse";
  console.log(
    `  [${who}] ${spec.label}: ${value.toFixed(spec.digits)} ${spec.unit}${row.how ? ` (${row.how})` : ""}`,
  );
  const file = process.env.GATEHOUSE_BENCH_ROWS;
  if (file) appendFileSync(file, JSON.stringify(row) + "\n");
}

/** The median of a few runs' values. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
