/**
 * `gatehouse audit`: the gateway's audit log — every admission decision, approval, rejection,
 * rotation, revocation and removal, with its reason and rule trace (never a secret) — read from
 * the local store, read-only, whether the gateway runs or not. `--follow` polls for new rows.
 */
import type { Command } from "commander";
import { resolveStateDir } from "../../config/index.js";
import { ruleSentence, sentencesFor } from "../../policy/rules.js";
import { isRefusalDecision, type AuditRecord, type Store } from "../../store/index.js";
import { shortId } from "../devices/format.js";
import { requireLocalStore } from "../lifecycle/local-store.js";
import { CliError, createReporter, EXIT, type Reporter } from "../output.js";
import type { RunCommand } from "./gateway-lifecycle.js";

export interface AuditOptions {
  follow?: boolean;
  device?: string;
  limit?: string;
  json?: boolean;
  verbose?: boolean;
  stateDir?: string;
}

export const DEFAULT_AUDIT_LIMIT = 50;
/** How often --follow looks for new rows. */
export const FOLLOW_INTERVAL_MS = 500;
/** Rows read per query while scanning (prefix filters, following). */
const PAGE = 1000;
/** The audit table's bound: the most a scan can ever see. */
const SCAN_ALL = 10_000;
const MIN_DEVICE_PREFIX = 8;
const FULL_DEVICE_ID_LENGTH = 64;

/** An audit row as `--json` prints it: the stored row plus its time as ISO 8601. */
export type AuditJsonRow = AuditRecord & { time: string };

export function auditJson(r: AuditRecord): AuditJsonRow {
  return { ...r, time: new Date(r.tsMs).toISOString() };
}

/** Decisions that kept a client out (refused, or waiting for approval). */
export function isRefusal(r: AuditRecord): boolean {
  return isRefusalDecision(r.decision);
}

/**
 * One row: time, kind, decision, then the fields present (reason, device, client, peer, role,
 * scopes, request, actor); with `verbose`, the rule trace on the next line and each rule's
 * sentence below it.
 */
export function formatAuditRow(r: AuditRecord, verbose = false, indent = ""): string {
  const fields: Array<[string, string | null]> = [
    ["reason", r.reason],
    ["device", r.deviceId && (verbose ? r.deviceId : shortId(r.deviceId))],
    ["client", r.client],
    ["peer", r.peer],
    ["role", r.role],
    ["scopes", r.scopes && (r.scopes.length > 0 ? r.scopes.join(",") : "(none)")],
    ["request", r.requestId],
    ["by", r.actor],
  ];
  const shown = fields.filter((f): f is [string, string] => f[1] !== null && f[1] !== "");
  const head = `${indent}${new Date(r.tsMs).toISOString()}  ${r.kind.padEnd(7)} ${r.decision.padEnd(16)}`;
  const line = [head, ...shown.map(([k, v]) => `${k}=${v}`)].join(" ").trimEnd();
  if (!verbose) return line;
  if (!r.trace || r.trace.length === 0) return `${line}\n${indent}    trace: (none recorded)`;
  const sentences = r.trace.map((id, i) => `${indent}      ${i + 1}. ${id}: ${ruleSentence(id)}`);
  return [`${line}`, `${indent}    trace: ${r.trace.join(" > ")}`, ...sentences].join("\n");
}

/** Which device rows to keep: a full id (indexed query) or a prefix of at least 8 characters. */
type DeviceFilter = { kind: "all" } | { kind: "exact"; id: string } | { kind: "prefix"; prefix: string };

function deviceFilter(given: string | undefined): DeviceFilter {
  if (given === undefined) return { kind: "all" };
  const id = given.trim().toLowerCase();
  if (id.length >= FULL_DEVICE_ID_LENGTH) return { kind: "exact", id };
  if (id.length < MIN_DEVICE_PREFIX) {
    throw new CliError(
      "INVALID_FLAG",
      `--device ${JSON.stringify(given)}: give the full device id or a prefix of at least ${MIN_DEVICE_PREFIX} characters`,
      EXIT.usage,
      "see the ids with: gatehouse devices list",
    );
  }
  return { kind: "prefix", prefix: id };
}

function matches(filter: DeviceFilter, r: AuditRecord): boolean {
  if (filter.kind === "all") return true;
  if (r.deviceId === null) return false;
  return filter.kind === "exact" ? r.deviceId === filter.id : r.deviceId.startsWith(filter.prefix);
}

function parseCount(value: string | undefined, flag: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new CliError(
      "INVALID_FLAG",
      `${flag}: must be an integer of at least ${min} (got ${JSON.stringify(value)})`,
      EXIT.usage,
    );
  }
  return n;
}

/** The newest `limit` matching rows, oldest first, and the newest id in the whole log. */
export function recentRows(
  store: Store,
  filter: DeviceFilter,
  limit: number,
): { rows: AuditRecord[]; lastId: number } {
  const lastId = store.audit.list({ limit: 1 })[0]?.id ?? 0;
  if (limit === 0) return { rows: [], lastId };
  const newest =
    filter.kind === "exact"
      ? store.audit.list({ deviceId: filter.id, limit })
      : filter.kind === "prefix"
        ? store.audit.list({ limit: SCAN_ALL }).filter((r) => matches(filter, r))
        : store.audit.list({ limit });
  return { rows: newest.slice(0, limit).reverse(), lastId };
}

/** Rows after `afterId`, oldest first, and the id to continue after. */
function rowsAfter(
  store: Store,
  filter: DeviceFilter,
  afterId: number,
): { rows: AuditRecord[]; lastId: number } {
  const rows: AuditRecord[] = [];
  let last = afterId;
  for (;;) {
    const page =
      filter.kind === "exact"
        ? store.audit.list({ deviceId: filter.id, afterId: last, limit: PAGE })
        : store.audit.list({ afterId: last, limit: PAGE });
    for (const r of page) if (matches(filter, r)) rows.push(r);
    if (page.length > 0) last = page[page.length - 1]!.id;
    if (page.length < PAGE) return { rows, lastId: last };
  }
}

/** `gatehouse audit`. */
export async function audit(opts: AuditOptions, out: Reporter): Promise<number> {
  const filter = deviceFilter(opts.device);
  const limit = parseCount(opts.limit, "--limit", DEFAULT_AUDIT_LIMIT, opts.follow ? 0 : 1);
  const stateDir = resolveStateDir({ flag: opts.stateDir });
  const store = requireLocalStore(stateDir);
  let initial: { rows: AuditRecord[]; lastId: number };
  try {
    initial = recentRows(store, filter, limit);
  } catch (err) {
    store.close();
    throw err;
  }
  const verbose = !!opts.verbose;
  if (!opts.follow) {
    store.close();
    const rules = sentencesFor(initial.rows.map((r) => r.trace));
    out.result({ store: store.path, rows: initial.rows.map(auditJson), rules }, () =>
      initial.rows.length > 0
        ? initial.rows.map((r) => formatAuditRow(r, verbose)).join("\n")
        : `no audit rows${filter.kind === "all" ? "" : " for that device"} in ${store.path}`,
    );
    return EXIT.ok;
  }
  return follow(store, filter, initial, verbose, FOLLOW_INTERVAL_MS, out);
}

/** Prints the initial rows, then new ones as they arrive, until SIGINT/SIGTERM or a closed stdout. */
function follow(
  store: Store,
  filter: DeviceFilter,
  initial: { rows: AuditRecord[]; lastId: number },
  verbose: boolean,
  intervalMs: number,
  out: Reporter,
): Promise<number> {
  const print = (rows: readonly AuditRecord[]) => {
    if (rows.length === 0) return;
    const text = out.json
      ? rows.map((r) => JSON.stringify(auditJson(r))).join("\n")
      : rows.map((r) => formatAuditRow(r, verbose)).join("\n");
    process.stdout.write(text + "\n");
  };
  print(initial.rows);
  out.info(`following ${store.path} for new rows (Ctrl-C to stop)`);
  let lastId = initial.lastId;
  return new Promise<number>((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    let done = false;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      process.stdout.off("error", onStdoutError);
      store.close();
      if (err === undefined) resolve(EXIT.ok);
      else reject(err as Error);
    };
    const onSignal = () => finish();
    // A reader that went away (`| head`) ends the follow quietly.
    const onStdoutError = () => finish();
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    process.stdout.on("error", onStdoutError);
    const tick = () => {
      if (done) return;
      try {
        const next = rowsAfter(store, filter, lastId);
        lastId = next.lastId;
        print(next.rows);
      } catch (err) {
        finish(err);
        return;
      }
      timer = setTimeout(tick, intervalMs);
    };
    timer = setTimeout(tick, intervalMs);
  });
}

/** Adds `gatehouse audit`. */
export function registerAudit(program: Command, run: RunCommand): void {
  program
    .command("audit")
    .description(
      "show the audit log: admission decisions, approvals, rejections, rotations, revocations, removals (newest last)",
    )
    .option("--follow", "keep printing new rows as they arrive (every 500 ms) until Ctrl-C")
    .option("--device <id>", "only rows about this device (full id or a prefix of at least 8 characters)")
    .option(
      "--limit <n>",
      `how many of the newest rows to show (default ${DEFAULT_AUDIT_LIMIT}; 0 with --follow: only new ones)`,
    )
    .option("--verbose", "also show each decision's rule trace, what each rule means, and full device ids")
    .option("--state-dir <dir>", "state directory (default: GATEHOUSE_STATE_DIR, else ~/.gatehouse)")
    .option(
      "--json",
      "print {store, rows: [...], rules: {id: sentence}} as JSON; with --follow, one JSON row per line",
    )
    .addHelpText(
      "after",
      "\nReads <state>/state/gatehouse.sqlite directly and read-only, on the gateway host, whether the gateway\n" +
        "runs or not. Rows: time, kind, decision, then reason, device, client, peer, role, scopes, request, by.\n" +
        "No row ever holds a token, a token hash or a signature. The log keeps the newest 10,000 rows.",
    )
    .action((opts: AuditOptions) => run(() => audit(opts, createReporter(!!opts.json)), !!opts.json));
}
