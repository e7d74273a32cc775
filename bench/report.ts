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

/** Issue 15's rows, in its order. Add a key here before reporting it. */
export const FIGURES = {
  "health-wall": {
    label: "CLI `health` wall time (`gatehouse health`; the peer: `openclaw health`)",
    unit: "s",
    goal: { kind: "at-most", value: 0.15 },
    digits: 3,
  },
  "gateway-start": {
    label: "gateway start → accepting connections",
    unit: "s",
    goal: { kind: "at-most", value: 0.25 },
    digits: 3,
  },
  "gateway-rss": {
    label: "gateway RSS after start",
    unit: "MB",
    goal: { kind: "at-most", value: 55 },
    digits: 1,
  },
  "callback-over-bare": {
    label: "sub-agent call-back (load client, connect, health) over bare Node",
    unit: "ms",
    goal: { kind: "at-most", value: 40 },
    digits: 1,
  },
  "spawn-rate-vs-bare": {
    label: "sessions spawned and called back per second (8 concurrent), % of bare Node",
    unit: "%",
    goal: { kind: "at-least", value: 60 },
    digits: 0,
  },
  "paired-p50": {
    label: "paired-device handshake p50, sequential",
    unit: "ms",
    goal: { kind: "at-most", value: 0.7 },
    digits: 3,
  },
  "paired-rate": {
    label: "paired-device handshakes/s, 16 concurrent clients, 10,000 devices stored",
    unit: "/s",
    goal: { kind: "at-least", value: 3000 },
    digits: 0,
  },
  "deviceless-p50": {
    label: "device-less handshake p50",
    unit: "ms",
    goal: { kind: "at-most", value: 0.5 },
    digits: 3,
  },
  "held-conn-memory": {
    label: "memory per held connection (10,000 held)",
    unit: "KiB",
    goal: { kind: "at-most", value: 8 },
    digits: 1,
  },
} satisfies Record<string, FigureSpec>;

export type FigureKey = keyof typeof FIGURES;

/** One reported figure: Gatehouse's, or (with `peer`) the same measurement against OpenClaw. */
export interface ReportedRow {
  key: FigureKey;
  value: number;
  /** "openclaw" for the peer's figure; absent for Gatehouse's own. */
  peer?: "openclaw";
  /** How the value was taken, e.g. "median of 3 runs". */
  how?: string;
}

/** Records a figure for the summary (and prints it, so a bench run alone still shows it). */
export function report(key: FigureKey, value: number, extra: Omit<ReportedRow, "key" | "value"> = {}): void {
  const row: ReportedRow = { key, value, ...extra };
  const spec: FigureSpec = FIGURES[key];
  const who = row.peer === "openclaw" ? "OpenClaw" : "Gatehouse";
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
