/**
 * Every decision about who may do what is taken in src/policy (the one pure layer its sweeps
 * prove): the layers that serve requests — gateway, methods, runtime, devices, store — carry out
 * decisions and never compare scopes themselves. They import none of the policy's scope-lattice
 * helpers or per-command scope tables, and test no scope name against a caller's set.
 *
 * The CLI is a client: its early checks only spare a round trip (the gateway decides again), and
 * doctor's findings advise; neither is scanned.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

/** The repository root (this file runs from dist/test/architecture). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** The layers that must only carry out decisions. */
const APPLYING_LAYERS = ["src/gateway", "src/methods", "src/runtime", "src/devices", "src/store"];

/**
 * Lines that read a scope without deciding anything, each with why. Keep this short: a new entry
 * needs a reason a reviewer accepts.
 */
const ADVICE_ONLY: ReadonlyArray<[file: string, code: string, why: string]> = [
  [
    "src/runtime/gateway-from-config.ts",
    'autoApprove.scopes.includes("operator.admin")',
    "the start-up warning that trusted-proxy auto-approval lists operator.admin advises, like doctor",
  ],
];

/** Policy modules whose only use is deciding: importing them outside policy means deciding there. */
const DECIDING_IMPORTS = [/\/policy\/scopes\.js["']/, /\/policy\/node-commands\.js["']/];

/** A scope name tested against a set, or a scope compared with `===`: a decision in the making. */
const SCOPE_COMPARISONS = [
  /\.(?:includes|has)\(\s*(?:OPERATOR_SCOPES\.\w+|["'`]operator\.[\w.]*["'`])\s*\)/,
  /[!=]==\s*(?:OPERATOR_SCOPES\.\w+|["'`]operator\.[\w.]*["'`])/,
  /(?:OPERATOR_SCOPES\.\w+|["'`]operator\.[\w.]*["'`])\s*[!=]==/,
];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith(".ts")) out.push(path);
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
    const hit = imports
      ? DECIDING_IMPORTS.some((re) => re.test(code))
      : SCOPE_COMPARISONS.some((re) => re.test(code));
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
  ].join("\n");
  assert.deepEqual(
    decisionsOutsidePolicy("planted.ts", planted).map((l) => l.split(":")[1]),
    ["1", "2", "3"],
  );
});

test("gateway, methods, runtime, devices and store take no who-may-do-what decision of their own", () => {
  const advice = (found: string) =>
    ADVICE_ONLY.some(([file, code]) => found.startsWith(`${file}:`) && found.includes(code));
  const offenders = APPLYING_LAYERS.flatMap((dir) =>
    sourceFiles(dir).flatMap((file) => decisionsOutsidePolicy(file, readFileSync(join(ROOT, file), "utf8"))),
  ).filter((found) => !advice(found));
  assert.deepEqual(offenders, []);
});
