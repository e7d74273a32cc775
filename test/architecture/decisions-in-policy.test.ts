/**
 * Every decision about who may do what is taken in src/policy (the one pure layer its sweeps
 * prove): every other folder of src — the layers that serve requests, and the clients (CLI,
 * client library, Control UI, doctor) — carries out decisions and never compares scopes itself.
 * None imports the policy's scope-lattice helpers or per-command scope tables, none tests a
 * scope name (or a caller's scope set) against another, and none writes a scope list of its own
 * (a default grant, what a client asks for): those come from the policy. Where a client must choose locally (which
 * scopes to ask for when it connects) it asks a policy function that returns a traced decision.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

/** The repository root (this file runs from dist/test/architecture). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Every folder of src but the policy, and the files at its top. */
function nonPolicySources(): string[] {
  return sourceFiles("src").filter((file) => !file.startsWith(join("src", "policy") + "/"));
}

/**
 * Lines that read a scope without deciding anything, each with why. Keep this short: a new entry
 * needs a reason a reviewer accepts.
 */
const ADVICE_ONLY: ReadonlyArray<[file: string, code: string, why: string]> = [
  [
    "src/store/approve.ts",
    "!state.scopes.includes(s)",
    "applying an approval the policy decided: the token widens by the scopes just approved (set arithmetic)",
  ],
  [
    "src/cli/commands/nodes-pairing.ts",
    "r.requiredApproveScopes.includes(ADMIN)",
    "labels a surface request the gateway said needs operator.admin as exec-capable; it decides nothing",
  ],
  [
    "src/cli/explain/surface.ts",
    "required.includes(OPERATOR_SCOPES.write)",
    "explain words why the gateway's required approve scopes are what they are; it decides nothing",
  ],
  [
    "src/ui/static/pages/devices.js",
    "!approvedScopes.includes(s)",
    "the Control UI highlights which requested scopes are new; the gateway decides",
  ],
  [
    "src/ui/static/dom.js",
    'scopes.includes("operator.admin")',
    "the Control UI's badge shows that a device holds operator.admin",
  ],
  [
    "src/ui/static/pages/device-table.js",
    'd.scopes.includes("operator.admin")',
    "the Control UI sorts and marks admin devices first; the gateway decides what they may do",
  ],
];

/** Policy modules whose only use is deciding: importing them outside policy means deciding there. */
const DECIDING_IMPORTS = [/\/policy\/scopes\.js["']/, /\/policy\/node-commands\.js["']/];

/** A scope name as code spells it: a constant of the scope table, or one of its local aliases. */
const SCOPE_NAME = String.raw`(?:OPERATOR_SCOPES\.\w+|ADMIN|PAIRING|READ|WRITE)`;

/**
 * A scope name tested against a set, a scope compared with `===`, or a scope set searched for a
 * member: a decision in the making. Or a requirement composed by hand: a scope set split by its
 * family (which part of a baseline counts is a rule), a scope chosen by a condition (`node` role
 * → admin), a scope list unioned into what an action needs, or a management ask given a scope list
 * instead of the action the policy derives it from.
 */
const SCOPE_COMPARISONS = [
  /\.(?:includes|has)\(\s*(?:OPERATOR_SCOPES\.\w+|["'`]operator\.[\w.]*["'`]|ADMIN|PAIRING|READ|WRITE)\s*\)/,
  /[!=]==\s*(?:OPERATOR_SCOPES\.\w+|["'`]operator\.[\w.]*["'`])/,
  /(?:OPERATOR_SCOPES\.\w+|["'`]operator\.[\w.]*["'`])\s*[!=]==/,
  /[sS]copes\??\.(?:includes|has|indexOf)\(/,
  /\.startsWith\(\s*(?:["'`](?:operator|node)\.[\w.]*["'`]|`\$\{\w+\}\.`)\s*\)/,
  new RegExp(String.raw`\?\s*\[\s*${SCOPE_NAME}\b`),
  new RegExp(String.raw`scopeUnion\(\s*\[\s*${SCOPE_NAME}\b`),
  /\.(?:require|askWithin)\(\s*\[/,
  new RegExp(String.raw`connectCli\([^;]*\[\s*(?:${SCOPE_NAME}|["'\`]operator\.)`),
];

/**
 * A scope list written by hand: a list literal that opens with a scope name, or a line that is one
 * element of such a list. Which scopes a client asks for, or work is granted, is a grant: the
 * policy decides it (client-defaults.ts, client-asks.ts) and the others import it (the Control UI
 * from the module the gateway serves).
 */
const SCOPE_LISTS = [
  new RegExp(String.raw`\[\s*(?:${SCOPE_NAME}|["'\`]operator\.[\w.]*["'\`])\s*[,\]]`),
  /^(?:OPERATOR_SCOPES\.\w+|["'`]operator\.[\w.]*["'`]),?$/,
];

/** The wire's vocabulary, where scope names and OpenClaw's bundles of them are defined. */
const SCOPE_VOCABULARY = "src/protocol/scopes.ts";

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(?:ts|js|mjs)$/.test(entry.name)) out.push(path);
  }
  return out.sort();
}

/** The lines of `text` that take a decision on their own, as `file:line: code`. */
function decisionsOutsidePolicy(file: string, text: string): string[] {
  const found: string[] = [];
  text.split("\n").forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, "").trim();
    if (code.startsWith("*") || code.startsWith("/*")) return;
    const imports = code.startsWith("import") || code.startsWith("} from");
    // Prettier quotes with "": a '…' string holds quotes of its own (help text showing JSON), not code.
    const unquoted = code.replace(/'[^']*"[^']*'/g, "''");
    const hit = imports
      ? DECIDING_IMPORTS.some((re) => re.test(code))
      : SCOPE_COMPARISONS.some((re) => re.test(code)) ||
        (file !== SCOPE_VOCABULARY && SCOPE_LISTS.some((re) => re.test(unquoted)));
    if (hit) found.push(`${file}:${i + 1}: ${code}`);
  });
  return found;
}

test("the scan finds a decision taken outside policy (it can fail)", () => {
  const planted = [
    'import { scopeSatisfied } from "../policy/scopes.js";',
    "if (!ctx.scopes.includes(OPERATOR_SCOPES.admin)) throw refused();",
    'const admin = scope === "operator.admin";',
    '// a comment may say scopes.includes("operator.admin")',
    'import { decideNodeInvoke } from "../policy/work.js";',
    // The CLI's old pre-checks: a policy helper imported, and a scope set compared by hand.
    'import { missingScopes } from "../../policy/scopes.js";',
    "if (!stored.scopes.includes(PAIRING)) throw missingScopeError();",
    "const covered = baseline.scopes.includes(s);",
    'import { decideAsk } from "../../policy/client-asks.js";',
    // The device commands' own copy of the management rules, before they asked the policy.
    'return roles.some((r) => r !== "operator") ? [ADMIN] : [];',
    'const operatorScopes = (scopes) => scopes.filter((s) => s.startsWith("operator."));',
    "const needed = scopeUnion([PAIRING], request.scopes, adminIfNode(request.roles));",
    "const newScopes = scopes ?? current ?? device.scopes.filter((s) => s.startsWith(`${role}.`));",
    "const needed = isSelf ? [PAIRING] : scopeUnion(operatorScopes(device.scopes));",
    "await backend.require([PAIRING, ADMIN], await backend.list(), `removing node ${id}`);",
    // Not a scope decision: a role picking what a connect declares, and a list of ids.
    'commands: role === "node" ? (params.commands ?? []) : null,',
    'if (id.startsWith("operator-")) return;',
    // A connect asking for a scope list made by hand instead of the policy's ask.
    "const { client } = await connectCli(opts, [OPERATOR_SCOPES.read]);",
    // Grants written by hand: a job's default and the Control UI's ask, one line or one per line.
    "export const DEFAULT_JOB_SCOPES: readonly string[] = [OPERATOR_SCOPES.read];",
    'export const UI_SCOPES = ["operator.admin", "operator.pairing", "operator.read"];',
    "const asked = [",
    "  OPERATOR_SCOPES.admin,",
    '  "operator.read"',
    "];",
    // Not a grant: help text that shows a config value, and a list of role names.
    `about: 'trusted-proxy: {"user": ["operator.read", ...]} scopes of device-less proxy users',`,
    'const roles = ["operator", "node"];',
  ].join("\n");
  assert.deepEqual(
    decisionsOutsidePolicy("planted.ts", planted).map((l) => l.split(":")[1]),
    ["1", "2", "3", "6", "7", "8", "10", "11", "12", "13", "14", "15", "18", "19", "20", "22", "23"],
  );
});

test("no folder of src but the policy (gateway, methods, runtime, devices, store, CLI, client, UI, doctor, ...) takes a who-may-do-what decision of its own", () => {
  const advice = (found: string) =>
    ADVICE_ONLY.some(([file, code]) => found.startsWith(`${file}:`) && found.includes(code));
  const scanned = nonPolicySources();
  // The scan must reach the CLI's device commands and the status reader, where pre-checks lived,
  // and the CLI's job flags and the Control UI's connection, where scope lists were written by hand.
  for (const file of [
    "src/cli/devices/backend.ts",
    "src/cli/lifecycle/live.ts",
    "src/cli/commands/doctor.ts",
    "src/cli/commands/client-flags.ts",
    "src/ui/static/gateway.js",
  ]) {
    assert.ok(scanned.includes(file), `${file} is scanned`);
  }
  const offenders = scanned
    .flatMap((file) => decisionsOutsidePolicy(file, readFileSync(join(ROOT, file), "utf8")))
    .filter((found) => !advice(found));
  assert.deepEqual(offenders, []);
});

test("every advice-only exception still matches a line (stale entries are removed)", () => {
  for (const [file, code] of ADVICE_ONLY) {
    assert.ok(readFileSync(join(ROOT, file), "utf8").includes(code), `${file}: ${code}`);
  }
});
