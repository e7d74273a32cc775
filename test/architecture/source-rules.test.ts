/**
 * Structural rules the compiler cannot state, checked over the source tree: no type bridged with a
 * double assertion (`as unknown as`), so every wire shape and private field is typed or narrowed.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

/** The repository root (this file runs from dist/test/architecture). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Every TypeScript file under `dir`, as paths relative to the repository root. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out.sort();
}

test("no `as unknown as` in src/: types are declared or narrowed, never bridged", () => {
  const offenders: string[] = [];
  for (const file of sourceFiles("src")) {
    readFileSync(join(ROOT, file), "utf8")
      .split("\n")
      .forEach((line, i) => {
        if (/\bas\s+unknown\s+as\b/.test(line)) offenders.push(`${relative(".", file)}:${i + 1}`);
      });
  }
  assert.deepEqual(offenders, []);
});
