/**
 * The package's public face, checked like jose's check-subpaths: every `exports` entry resolves
 * (by the package's own name) to a built file with types, every runtime export is declared, and
 * every export of every entry point is documented with an example. The examples themselves run
 * against the packed tarball in packed.test.ts.
 */
import { strict as assert } from "node:assert";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { codeEntries, documentedExports, packageJson, ROOT, specifier } from "./package-entries.js";

const pkg = packageJson();
const declared = documentedExports(pkg);

/** True when `files` in package.json ships `path` (a path relative to the root). */
function shipped(path: string): boolean {
  const rel = path.replace(/^\.\//, "");
  const excluded = pkg.files
    .filter((f) => f.startsWith("!"))
    .some((f) => rel.endsWith(f.slice(f.lastIndexOf("*") + 1)));
  return !excluded && pkg.files.some((f) => !f.startsWith("!") && (rel === f || rel.startsWith(`${f}/`)));
}

describe("package exports", () => {
  it("is named gatehouse-gateway and installs the gatehouse command", () => {
    assert.equal(pkg.name, "gatehouse-gateway");
    assert.deepEqual(Object.keys(pkg.bin), ["gatehouse"]);
    const bin = join(ROOT, pkg.bin.gatehouse!);
    assert.ok(existsSync(bin), `${pkg.bin.gatehouse} is built`);
    assert.match(readFileSync(bin, "utf8"), /^#!\/usr\/bin\/env node\n/);
    assert.ok(shipped(pkg.bin.gatehouse!));
  });

  it("resolves every code entry, by the package's own name, to a shipped built file with types", async () => {
    const entries = codeEntries(pkg);
    assert.deepEqual(
      entries.map((e) => e.subpath),
      [".", "./client", "./client/env", "./protocol"],
    );
    for (const entry of entries) {
      const name = specifier(pkg, entry.subpath);
      for (const file of [entry.js, entry.types]) {
        assert.ok(existsSync(join(ROOT, file)), `${name}: ${file} exists`);
        assert.ok(shipped(file), `${name}: ${file} is in "files"`);
      }
      assert.equal(
        fileURLToPath(import.meta.resolve(name)),
        join(ROOT, entry.js),
        `${name} resolves to ${entry.js}`,
      );
      const mod = (await import(name)) as Record<string, unknown>;
      const runtime = Object.keys(mod).sort();
      assert.ok(runtime.length > 0, `${name} exports something`);
      const values = declared.filter((d) => d.from === name && d.kind === "value").map((d) => d.name);
      assert.deepEqual(runtime, [...values].sort(), `${name}: what runs is what the types declare`);
      for (const key of runtime) assert.notEqual(mod[key], undefined, `${name}: ${key} is defined`);
    }
  });

  it("points main and types at the main entry", () => {
    const raw = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      main: string;
      types: string;
    };
    const main = codeEntries(pkg).find((e) => e.subpath === ".")!;
    assert.equal(raw.main, main.js);
    assert.equal(raw.types, main.types);
  });

  it("publishes every JSON Schema file under gatehouse-gateway/schemas/*", () => {
    assert.equal(pkg.exports["./schemas/*"], "./schemas/*");
    const files = readdirSync(join(ROOT, "schemas")).filter((f) => f.endsWith(".json"));
    assert.ok(files.includes("hello-ok.json") && files.includes("connect-params.json"), files.join(", "));
    for (const f of files) {
      const path = fileURLToPath(import.meta.resolve(`${pkg.name}/schemas/${f}`));
      assert.equal(path, join(ROOT, "schemas", f));
      assert.equal(typeof (JSON.parse(readFileSync(path, "utf8")) as { $id?: unknown }).$id, "string", f);
      assert.ok(shipped(`schemas/${f}`));
    }
    assert.equal(fileURLToPath(import.meta.resolve(`${pkg.name}/package.json`)), join(ROOT, "package.json"));
  });

  it("documents every export of every entry point with a summary and an example that imports it", () => {
    const undocumented: string[] = [];
    for (const d of declared) {
      const id = `${d.from}#${d.name}`;
      if (d.summary === "") undocumented.push(`${id}: no summary`);
      if (d.examples.length === 0) undocumented.push(`${id}: no @example with a code block`);
      if (!d.examples.some((e) => e.includes(d.name) && /from "gatehouse-gateway(\/[a-z]+)*"/.test(e)))
        undocumented.push(`${id}: no example imports the package and uses ${d.name}`);
    }
    assert.deepEqual(undocumented, []);
  });
});
