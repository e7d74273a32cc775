/**
 * A check built from precompiled code (one of the generated check-code files): it loads no schema
 * library and imports nothing, so the client's frame checks and the gateway's checks both build on
 * it without loading each other's code. Only a value that fails loads the schemas and TypeBox, to
 * word its problems the way the full validator does.
 */
import type * as CheckSchemas from "./check-schemas.js";
import type { CheckName, Checked } from "./check-schemas.js";
import type * as CompileValidator from "./compile-validator.js";
import type { Validation } from "./validation.js";

/** The full validator of `name`'s schema (loads TypeBox and every checked schema). */
function fullValidator<K extends CheckName>(
  name: K,
  maxErrors: number,
): (value: unknown) => Validation<Checked<K>> {
  // node:module by getBuiltinModule, and only here: an ES import of it costs every caller ~3 M
  // instructions at load (bench/README.md), for a path only a failing value takes.
  const require = process.getBuiltinModule("node:module").createRequire(import.meta.url);
  // Paths from the folder above, so they name the same files from dist/src/protocol and from the
  // bundles in dist/src/bundle (both one folder under dist/src).
  const { CHECK_SCHEMAS } = require("../protocol/check-schemas.js") as typeof CheckSchemas;
  const { compileValidator } = require("../protocol/compile-validator.js") as typeof CompileValidator;
  return compileValidator(CHECK_SCHEMAS[name], maxErrors) as (value: unknown) => Validation<Checked<K>>;
}

/**
 * A checker for the schema named `name` running `code` (compiler output: a function body that
 * returns the check), with the result its full validator gives: the value, or up to `maxErrors`
 * problems as `at /path: message`. The check is built on the first call. Without code (a stale
 * generated file) it still checks right, only slower.
 */
export function precompiledChecker<K extends CheckName>(
  name: K,
  code: string | undefined,
  maxErrors = 5,
): (value: unknown) => Validation<Checked<K>> {
  let check: ((value: unknown) => boolean) | undefined;
  let full: ((value: unknown) => Validation<Checked<K>>) | undefined;
  const slow = (value: unknown): Validation<Checked<K>> => (full ??= fullValidator(name, maxErrors))(value);
  return (value) => {
    check ??= code === undefined ? (v) => slow(v).ok : (new Function(code)() as (value: unknown) => boolean);
    return check(value) ? { ok: true, value: value as Checked<K> } : slow(value);
  };
}
