/**
 * Finding a sandboxed job's processes from outside, for the tests that kill one: every process of
 * a job started with a unique marker argument carries it in its command line — bubblewrap's
 * monitor and the sandbox's init (their argv ends with the job's) as well as the job itself — so
 * whatever part of a sandbox outlived its kill is found by the marker.
 */
import { readdirSync, readFileSync } from "node:fs";
import { childrenOf } from "../../src/runtime/sandbox-host.js";
import { sleep } from "./helpers.js";

/** A live process whose command line holds the marker. */
export interface MarkedProcess {
  pid: number;
  /** Its argv[0]: bubblewrap for the monitor and the init, the job's program for the job. */
  program: string;
}

/** A marker no other test run uses. */
export function uniqueMarker(what: string): string {
  return `gatehouse-${what}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The live processes whose command line holds `marker` (a zombie's is empty: not counted). */
export function processesWith(marker: string): MarkedProcess[] {
  const out: MarkedProcess[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0");
      if (argv.includes(marker)) out.push({ pid: Number(e), program: argv[0] ?? "" });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Waits up to `timeoutMs` for every process holding `marker` to be gone, and returns those that are
 * not. Survivors are then killed, so a failing test leaves nothing running behind it.
 */
export async function survivors(marker: string, timeoutMs = 3000): Promise<MarkedProcess[]> {
  const deadline = Date.now() + timeoutMs;
  let left = processesWith(marker);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(50);
    left = processesWith(marker);
  }
  for (const p of left) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
  return left;
}

/**
 * How far bubblewrap has got with a sandbox, seen from outside: `monitor` (no init yet), `init`
 * (the init, still in the monitor's session), `init-own-session` (the init leads its own session
 * and has not forked the job yet: it does not have --die-with-parent yet), `job` (forked).
 */
export type SandboxPhase = "monitor" | "init" | "init-own-session" | "job" | "gone";

export function sandboxPhase(monitorPid: number): SandboxPhase {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${monitorPid}/stat`, "utf8");
  } catch {
    return "gone";
  }
  if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return "gone";
  const init = childrenOf(monitorPid)[0];
  if (init === undefined) return "monitor";
  if (childrenOf(init).length > 0) return "job";
  let initStat: string;
  try {
    initStat = readFileSync(`/proc/${init}/stat`, "utf8");
  } catch {
    return "gone";
  }
  // Fields after the command: state, ppid, pgrp, session.
  const session = Number(initStat.slice(initStat.lastIndexOf(")") + 2).split(" ")[3]);
  return session === init ? "init-own-session" : "init";
}
