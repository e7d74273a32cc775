/**
 * What users read cites nothing they cannot look up: no catalogue ids (S08, C02 — those name
 * tests, not anything a user has), and RPC method names only inside a command they can run
 * (`gatehouse call <method>`, which `gatehouse call --list` explains). Checked over every string
 * in src/ that reads as a sentence.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith(".ts") || p.endsWith(".js") ? [p] : [];
  });
}

/** Every string and template literal with a space in it (a sentence, not a key), with its place. */
function sentences(): Array<{ where: string; text: string }> {
  const out: Array<{ where: string; text: string }> = [];
  for (const file of sourceFiles(join(ROOT, "src"))) {
    const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    const visit = (n: ts.Node): void => {
      let text: string | undefined;
      if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) text = n.text;
      else if (ts.isTemplateExpression(n))
        text = n.head.text + n.templateSpans.map((s) => "${…}" + s.literal.text).join("");
      if (text?.includes(" ")) {
        const line = sf.getLineAndCharacterOfPosition(n.getStart()).line + 1;
        out.push({ where: `${relative(ROOT, file)}:${line}`, text });
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return out;
}

const all = sentences();

describe("messages a user reads", () => {
  it("the scan sees the messages (it can fail)", () => {
    assert.ok(all.length > 500, `only ${all.length} sentences found`);
    assert.ok(all.some((s) => s.text.includes("unknown session")));
  });

  it("cite no catalogue ids", () => {
    const cited = all.filter((s) => /\b[SC][0-9]{2}\b/.test(s.text));
    assert.deepEqual(
      cited.map((s) => `${s.where}: ${s.text}`),
      [],
    );
  });

  it("name RPC methods only inside a command the user can run", () => {
    const method = /\b(?:sessions|cron|node|device\.pair|device\.token)\.[a-z][A-Za-z.]*/g;
    const bare = all.filter((s) =>
      [...s.text.matchAll(method)].some((m) => !s.text.slice(0, m.index).endsWith("gatehouse call ")),
    );
    assert.deepEqual(
      bare.map((s) => `${s.where}: ${s.text}`),
      [],
    );
  });
});
