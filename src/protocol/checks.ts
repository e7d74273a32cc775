/**
 * Checks of frames and method params that load no schema library: a gateway that starts, or a
 * client that connects and calls back, should not pay for TypeBox. Each check is the code
 * TypeBox's compiler emits for the schema (kept in check-code.ts by `npm run schemas`;
 * test/protocol/checks.test.ts fails when it is stale), so it accepts exactly what the schema
 * accepts. Only a value that fails loads the schemas and TypeBox, to word its problems the way the
 * full validator does.
 */
import { createRequire } from "node:module";
import { CHECK_CODE } from "./check-code.js";
import type * as CheckSchemas from "./check-schemas.js";
import type { CheckName, Checked } from "./check-schemas.js";
import type * as CompileValidator from "./compile-validator.js";
import type { Validation } from "./validate.js";

const require = createRequire(import.meta.url);

/** The full validator of `name`'s schema (loads TypeBox and every checked schema). */
function fullValidator<K extends CheckName>(
  name: K,
  maxErrors: number,
): (value: unknown) => Validation<Checked<K>> {
  const { CHECK_SCHEMAS } = require("./check-schemas.js") as typeof CheckSchemas;
  const { compileValidator } = require("./compile-validator.js") as typeof CompileValidator;
  return compileValidator(CHECK_SCHEMAS[name], maxErrors) as (value: unknown) => Validation<Checked<K>>;
}

/**
 * A checker for the schema named `name`, with the result its full validator gives: the value, or
 * up to `maxErrors` problems as `at /path: message`. Code is built on the first check.
 */
export function checker<K extends CheckName>(
  name: K,
  maxErrors = 5,
): (value: unknown) => Validation<Checked<K>> {
  let check: ((value: unknown) => boolean) | undefined;
  let full: ((value: unknown) => Validation<Checked<K>>) | undefined;
  const slow = (value: unknown): Validation<Checked<K>> => (full ??= fullValidator(name, maxErrors))(value);
  return (value) => {
    // A name without code (check-code.ts is stale) still checks right, only slower.
    if (!check) {
      const code = CHECK_CODE[name];
      check = code === undefined ? (v) => slow(v).ok : compiled(code);
    }
    return check(value) ? { ok: true, value: value as Checked<K> } : slow(value);
  };
}

/** Builds a check from compiler output (a function body that returns the check). */
function compiled(code: string): (value: unknown) => boolean {
  return new Function(code)() as (value: unknown) => boolean;
}
