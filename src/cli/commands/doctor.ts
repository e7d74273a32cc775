/**
 * `gatehouse doctor [--fix] [--json]`: checks the state dir, the config, the pairing store and the
 * running gateway; each finding has a stable id, a severity and a fix. `--fix` applies only the
 * safe repairs and says what it changed. Exit 0 when no error-severity finding remains, 1 otherwise.
 */
import type { Command } from "commander";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { resolveStateDir, statePaths } from "../../config/index.js";
import {
  applyRepairs,
  gatherConfig,
  gatherFiles,
  gatherSandbox,
  gatherStore,
  runChecks,
  summarize,
  type AppliedRepair,
  type CheckStatus,
  type DoctorFacts,
  type Finding,
  type GatewayFacts,
  type SandboxFacts,
  type Severity,
} from "../../doctor/index.js";
import { methodsAsk } from "../../policy/client-asks.js";
import { connectCli, parseTimeout } from "../connect.js";
import type { PairList } from "../devices/types.js";
import { localTarget, type StatusPayload } from "../lifecycle/live.js";
import { inspectGateway } from "../lifecycle/state.js";
import { createReporter, EXIT, type Reporter } from "../output.js";
import type { RunCommand } from "./client-flags.js";

export interface DoctorOptions {
  fix?: boolean;
  json?: boolean;
  stateDir?: string;
  timeout?: string;
}

/** What `doctor` prints; `--json` prints exactly this. */
export interface DoctorReport {
  /** True when no error-severity finding remains. */
  ok: boolean;
  stateDir: string;
  /** Findings that remain (after `--fix`, those it could not or may not repair). */
  findings: Array<Omit<Finding, "repair"> & { fixable: boolean }>;
  /** What `--fix` changed; empty without it. */
  fixed: AppliedRepair[];
  checks: CheckStatus[];
  summary: Record<Severity, number>;
}

const DEFAULT_DOCTOR_TIMEOUT_MS = 5000;

/** Registers `gatehouse doctor`. */
export function registerDoctor(program: Command, run: RunCommand): void {
  program
    .command("doctor")
    .description(
      "check the state dir, config, pairing store and running gateway; each finding has an id, a severity and a fix",
    )
    .option(
      "--fix",
      "apply the safe repairs (file modes, expired pending requests, a missing token) and say what changed",
    )
    .option(
      "--json",
      "print {ok, findings:[{id, severity, message, fix, subject, fixable}], fixed, checks, summary}",
    )
    .option("--state-dir <dir>", "state directory (default: GATEHOUSE_STATE_DIR, else ~/.gatehouse)")
    .option(
      "--timeout <ms>",
      "how long to wait for the running gateway to answer",
      String(DEFAULT_DOCTOR_TIMEOUT_MS),
    )
    .addHelpText(
      "after",
      [
        "",
        "Exit status: 0 when no error-severity finding remains (warnings and notes do not count),",
        "1 when one does, 2 for bad usage (an unknown flag, a --timeout that is not a number).",
        "--fix never touches a damaged store or an invalid config file, and never replaces a token that is set.",
      ].join("\n"),
    )
    .action((opts: DoctorOptions) => run(() => doctor(opts, createReporter(!!opts.json)), !!opts.json));
}

/** Asks the running gateway (as the owner, on this host) for health, sessions and token states. */
async function gatherGateway(
  stateDir: string,
  configOk: boolean,
  timeout: string | undefined,
): Promise<GatewayFacts> {
  const state = inspectGateway(stateDir);
  if (!state.running) return { state: "not-running" };
  if (!configOk)
    return { state: "skipped", reason: "the config file is invalid, so the gateway's address is unknown" };
  // Connecting creates no identity: without the owner's, this CLI would have to pair first.
  if (!existsSync(join(statePaths(stateDir).identityDir, "device.json"))) {
    return { state: "skipped", reason: "the state dir has no owner identity to connect with" };
  }
  const opts = { stateDir, timeout };
  try {
    const target = localTarget(opts, null);
    const conn = await connectCli(
      { ...opts, wait: undefined },
      methodsAsk(["health", "status", "device.pair.list"]).scopes,
      { target },
    );
    try {
      const health = await conn.client.request<{ ok: boolean; version: string }>("health");
      if (!health.ok) return { state: "unreachable", pid: state.pid, error: "health answered ok: false" };
      const status = await conn.client.request<StatusPayload>("status");
      const list = await conn.client.request<PairList>("device.pair.list", {});
      return {
        state: "answering",
        url: conn.url,
        version: health.version,
        clients: status.connections.clients
          .filter((c) => c.connId !== status.self.connId)
          .map((c) => ({ connId: c.connId, role: c.role, client: c.client, deviceId: c.deviceId })),
        tokens: list.paired.flatMap((d) =>
          d.tokens.map((t) => ({ deviceId: d.deviceId, role: t.role, revokedAtMs: t.revokedAtMs ?? null })),
        ),
      };
    } finally {
      await conn.client.close();
    }
  } catch (err) {
    return { state: "unreachable", pid: state.pid, error: err instanceof Error ? err.message : String(err) };
  }
}

function localFacts(stateDir: string, gateway: GatewayFacts, sandbox: SandboxFacts): DoctorFacts {
  const nowMs = Date.now();
  // Modes first: opening the store (even read-only) may create its -wal/-shm files.
  const files = gatherFiles(stateDir);
  return {
    stateDir,
    nowMs,
    files,
    config: gatherConfig(stateDir),
    store: gatherStore(stateDir, nowMs),
    gateway,
    sandbox,
  };
}

/** Runs the checks (and, with `--fix`, the safe repairs followed by the checks again). */
export async function doctor(opts: DoctorOptions, out: Reporter): Promise<number> {
  // Bad usage is exit 2 before any check runs, not a finding (the help says so).
  parseTimeout(opts.timeout);
  const stateDir = resolveStateDir({ flag: opts.stateDir });
  const config = gatherConfig(stateDir);
  const gateway = await gatherGateway(stateDir, config.ok, opts.timeout);
  const sandbox = await gatherSandbox(config);
  let facts = localFacts(stateDir, gateway, sandbox);
  let result = runChecks(facts);
  let fixed: AppliedRepair[] = [];
  if (opts.fix) {
    fixed = applyRepairs(result.findings, stateDir, facts.nowMs);
    if (fixed.length > 0) {
      facts = localFacts(stateDir, gateway, sandbox);
      result = runChecks(facts);
    }
  }
  const summary = summarize(result.findings);
  const report: DoctorReport = {
    ok: summary.error === 0,
    stateDir,
    findings: result.findings.map(({ repair, ...f }) => ({ ...f, fixable: repair !== undefined })),
    fixed,
    checks: result.checks,
    summary,
  };
  out.result(report, () => formatDoctor(report, !!opts.fix));
  return report.ok ? EXIT.ok : EXIT.failed;
}

const LABEL: Record<Severity, string> = { error: "ERROR", warn: "WARN ", info: "INFO " };

/** The text view. */
export function formatDoctor(r: DoctorReport, fixing: boolean): string {
  const lines = [`gatehouse doctor: ${r.stateDir}`];
  if (r.fixed.length > 0) {
    lines.push("", "fixed:");
    for (const f of r.fixed) {
      lines.push(f.ok ? `  ${f.id}: ${f.action}` : `  ${f.id}: FAILED ${f.action}: ${f.error}`);
    }
  }
  lines.push("");
  if (r.findings.length === 0) lines.push("no findings: everything checked is in order");
  for (const f of r.findings) {
    lines.push(`${LABEL[f.severity]} ${f.id}: ${f.message}`);
    lines.push(`       fix: ${f.fix}${f.fixable && !fixing ? " [gatehouse doctor --fix does this]" : ""}`);
  }
  const skipped = r.checks.filter((c) => c.status === "skipped");
  if (skipped.length > 0) {
    lines.push("", "skipped:");
    for (const c of skipped) lines.push(`  ${c.id}: ${c.note}`);
  }
  const { error, warn, info } = r.summary;
  lines.push(
    "",
    `${error} error${error === 1 ? "" : "s"}, ${warn} warning${warn === 1 ? "" : "s"}, ${info} note${info === 1 ? "" : "s"}` +
      (!fixing && r.findings.some((f) => f.fixable)
        ? " — gatehouse doctor --fix applies the safe repairs"
        : ""),
  );
  return lines.join("\n");
}
