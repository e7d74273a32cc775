/**
 * `gatehouse import openclaw <openclaw-state-dir> [--apply] [--json]`: shows what of an OpenClaw
 * state dir (legacy JSON files and/or `state/openclaw.sqlite`) would be imported, and imports it
 * with `--apply`: paired devices keep their keys, roles and approved scopes (legacy shapes
 * normalized), revoked tokens stay revoked, live tokens are carried over hashed. Each device is one
 * transaction; a malformed record is reported and the rest imported. Pending requests are not
 * imported, and OpenClaw's own identity is reported, never adopted as this gateway's owner.
 */
import type { Command } from "commander";
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { resolveStateDir, statePaths } from "../../config/index.js";
import { openStore } from "../../store/index.js";
import {
  applyOpenClawImport,
  planOpenClawImport,
  readOpenClawState,
  type ImportRow,
  type OpenClawState,
} from "../../store/openclaw-import.js";
import { shortId } from "../devices/format.js";
import { openLocalStore } from "../lifecycle/local-store.js";
import { inspectGateway } from "../lifecycle/state.js";
import { CliError, createReporter, EXIT, listOrNone, type Reporter } from "../output.js";
import { table, type RunCommand } from "./client-flags.js";

export interface ImportOptions {
  apply?: boolean;
  json?: boolean;
  stateDir?: string;
}

/** What `import openclaw` prints; `--json` prints exactly this. */
export interface ImportReport {
  from: string;
  into: string;
  applied: boolean;
  sources: string[];
  devices: ImportRow[];
  identity: { deviceId: string; source: string; adopted: false } | { error: string; source: string } | null;
  pending: { count: number; imported: false };
  clientTokens: { count: number; imported: false };
  problems: string[];
  summary: { new: number; alreadyPresent: number; imported: number; errors: number };
  notes: string[];
}

/** Registers `gatehouse import openclaw`. */
export function registerImport(program: Command, run: RunCommand): void {
  const group = program.command("import").description("import pairing state from another gateway");
  group
    .command("openclaw")
    .description(
      "show what an OpenClaw state dir holds (devices/paired.json, state/openclaw.sqlite) and, with --apply, import its paired devices",
    )
    .argument("<openclaw-state-dir>", "OpenClaw's state directory, e.g. ~/.openclaw")
    .option("--apply", "import the devices marked new (without it, nothing is written)")
    .option(
      "--json",
      "print {devices:[{deviceId, roles, scopes, tokens, status, error?}], summary, ...} as JSON",
    )
    .option(
      "--state-dir <dir>",
      "Gatehouse state directory to import into (default: GATEHOUSE_STATE_DIR, else ~/.gatehouse)",
    )
    .addHelpText(
      "after",
      [
        "",
        "Imported devices keep their keys, roles and approved scopes and connect without pairing again;",
        "their device tokens keep working (stored hashed), or are re-issued on their next connect with the",
        "shared token. Pending requests are not imported: they are transient, and those devices ask again.",
        "Exit status: 0 when every record could be read, 1 when some could not (the others are still imported).",
      ].join("\n"),
    )
    .action((dir: string, opts: ImportOptions) =>
      run(() => importOpenClaw(dir, opts, createReporter(!!opts.json)), !!opts.json),
    );
}

function sourcesOf(state: OpenClawState): string[] {
  const out: string[] = [];
  if (state.found.sqlite) out.push("state/openclaw.sqlite");
  if (state.found.paired) out.push("devices/paired.json");
  if (state.found.pending) out.push("devices/pending.json");
  if (state.found.identity) out.push("identity/device.json");
  return out;
}

/** Runs `gatehouse import openclaw`. */
export async function importOpenClaw(dir: string, opts: ImportOptions, out: Reporter): Promise<number> {
  const from = resolve(dir);
  if (!existsSync(from) || !statSync(from).isDirectory()) {
    throw new CliError(
      "NOT_FOUND",
      `${from} is not a directory`,
      EXIT.usage,
      "give OpenClaw's state dir, e.g. ~/.openclaw",
    );
  }
  const state = readOpenClawState(from);
  if (!state.found.paired && !state.found.sqlite) {
    throw new CliError(
      "NOTHING_TO_IMPORT",
      `no OpenClaw pairing state in ${from}: neither devices/paired.json nor state/openclaw.sqlite exists`,
      EXIT.failed,
      "give OpenClaw's state dir (default ~/.openclaw, or OPENCLAW_STATE_DIR)",
      { fields: { problems: state.problems } },
    );
  }
  const stateDir = resolveStateDir({ flag: opts.stateDir });
  const into = join(statePaths(stateDir).stateDbDir, "gatehouse.sqlite");
  const now = Date.now();
  let devices: ImportRow[];
  if (opts.apply) {
    const store = openStore(into);
    try {
      devices = applyOpenClawImport(store, planOpenClawImport(state, store, now), now);
    } finally {
      store.close();
    }
  } else {
    const store = openLocalStore(stateDir);
    try {
      devices = planOpenClawImport(state, store, now).map((p) => p.row);
    } finally {
      store?.close();
    }
  }
  const count = (s: ImportRow["status"]) => devices.filter((d) => d.status === s).length;
  const summary = {
    new: count("new"),
    alreadyPresent: count("already-present"),
    imported: count("imported"),
    errors: count("error"),
  };
  const notes: string[] = [];
  if (state.pending > 0) {
    notes.push(
      `${state.pending} pending request${state.pending === 1 ? " was" : "s were"} not imported: requests are transient; those devices ask again on their next connect.`,
    );
  }
  if (state.identity && "deviceId" in state.identity) {
    const id = state.identity.deviceId;
    const paired = devices.some((d) => d.deviceId === id);
    notes.push(
      `OpenClaw's own identity ${shortId(id)} (${state.identity.source}) is reported only, not adopted: this gateway keeps its own owner key` +
        (paired ? "; it was paired there as a device and is imported like the others." : "."),
    );
  }
  if (state.clientTokens > 0) {
    notes.push("OpenClaw's client-side device tokens were not imported: the gatehouse CLI keeps its own.");
  }
  if (opts.apply && summary.imported > 0 && inspectGateway(stateDir).running) {
    notes.push("the gateway is running: connected devices pick the changes up on their next connect.");
  }
  if (!opts.apply && summary.new > 0) {
    notes.push(
      `dry run: nothing was written. Run again with --apply to import ${summary.new} device${summary.new === 1 ? "" : "s"} into ${into}.`,
    );
  }
  const report: ImportReport = {
    from,
    into,
    applied: !!opts.apply,
    sources: sourcesOf(state),
    devices,
    identity:
      state.identity && "deviceId" in state.identity ? { ...state.identity, adopted: false } : state.identity,
    pending: { count: state.pending, imported: false },
    clientTokens: { count: state.clientTokens, imported: false },
    problems: state.problems,
    summary,
    notes,
  };
  out.result(report, () => formatImport(report));
  return Promise.resolve(summary.errors > 0 || state.problems.length > 0 ? EXIT.failed : EXIT.ok);
}

function tokensCell(row: ImportRow): string {
  if (row.tokens.length === 0) return "(none)";
  return row.tokens.map((t) => `${t.role}: ${t.state}`).join(", ");
}

/** The text view: one table row per device, then errors, notes and the summary. */
export function formatImport(r: ImportReport): string {
  const lines = [`OpenClaw state in ${r.from} (${r.sources.join(", ")})`, ""];
  if (r.devices.length === 0) lines.push("no paired devices found");
  else {
    lines.push(
      table([
        ["DEVICE", "NAME", "SOURCE", "ROLES", "APPROVED SCOPES", "TOKENS", "STATUS"],
        ...r.devices.map((d) => [
          d.deviceId ? shortId(d.deviceId) : "?",
          d.name ?? "-",
          d.source,
          listOrNone(d.roles),
          listOrNone(d.scopes),
          tokensCell(d),
          d.status,
        ]),
      ]),
    );
  }
  const errors = r.devices.filter((d) => d.status === "error");
  const annotated = r.devices.filter((d) => d.note);
  if (errors.length > 0 || r.problems.length > 0) {
    lines.push("", "not imported:");
    for (const p of r.problems) lines.push(`  ${p}`);
    for (const d of errors) lines.push(`  ${d.error}`);
  }
  if (annotated.length > 0) {
    lines.push("", "notes on devices:");
    for (const d of annotated) lines.push(`  ${d.deviceId ? shortId(d.deviceId) : "?"}: ${d.note}`);
  }
  if (r.notes.length > 0) lines.push("", ...r.notes);
  const s = r.summary;
  lines.push(
    "",
    r.applied
      ? `imported ${s.imported} device${s.imported === 1 ? "" : "s"} into ${r.into}; ${s.alreadyPresent} already present; ${s.errors} error${s.errors === 1 ? "" : "s"}`
      : `${s.new} new, ${s.alreadyPresent} already present, ${s.errors} error${s.errors === 1 ? "" : "s"}`,
  );
  return lines.join("\n");
}
