/**
 * The package as a consumer sees it: package.json's `exports`, and every export of each entry
 * point with its TSDoc, read from the built declaration files with the TypeScript compiler.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** The repository root (this file runs from dist/test/library). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface PackageJson {
  name: string;
  version: string;
  bin: Record<string, string>;
  files: string[];
  exports: Record<string, string | { types: string; default: string }>;
  dependencies: Record<string, string>;
}

/** package.json of the checkout. */
export function packageJson(): PackageJson {
  return JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as PackageJson;
}

/** `exports` entries that are JavaScript modules with types (not data files): subpath → files. */
export function codeEntries(pkg: PackageJson): { subpath: string; types: string; js: string }[] {
  const out: { subpath: string; types: string; js: string }[] = [];
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === "object") out.push({ subpath, types: target.types, js: target.default });
  }
  return out;
}

/** The import specifier of a subpath: `.` → the package name, `./client` → `name/client`. */
export function specifier(pkg: PackageJson, subpath: string): string {
  return subpath === "." ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
}

export interface DocumentedExport {
  /** The import specifier it comes from. */
  from: string;
  name: string;
  /** `value` exports exist at run time; `type` exports only in the declarations. */
  kind: "value" | "type";
  summary: string;
  /** The code of each fenced block in the `@example` tags. */
  examples: string[];
}

/** Every export of every code entry, with its documentation. */
export function documentedExports(pkg: PackageJson): DocumentedExport[] {
  const entries = codeEntries(pkg).map((e) => ({ ...e, path: join(ROOT, e.types) }));
  const program = ts.createProgram(
    entries.map((e) => e.path),
    {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      noEmit: true,
      skipLibCheck: true,
      types: ["node"],
    },
  );
  const checker = program.getTypeChecker();
  const out: DocumentedExport[] = [];
  for (const entry of entries) {
    const source = program.getSourceFile(entry.path);
    if (!source) throw new Error(`cannot read ${entry.path}`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`${entry.path} is not a module`);
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const kind = symbol.flags & ts.SymbolFlags.Value ? "value" : "type";
      const summary = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
      const examples = symbol
        .getJsDocTags(checker)
        .filter((t) => t.name === "example")
        .flatMap((t) => codeBlocks(ts.displayPartsToString(t.text)));
      out.push({ from: specifier(pkg, entry.subpath), name: exported.getName(), kind, summary, examples });
    }
  }
  return out;
}

function codeBlocks(text: string): string[] {
  const blocks: string[] = [];
  const re = /```(?:ts|typescript|js)?\n([\s\S]*?)```/g;
  for (let m = re.exec(text); m; m = re.exec(text)) blocks.push(m[1]!);
  return blocks;
}
