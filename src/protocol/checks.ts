/**
 * Checks of frames and method params that load no schema library: a gateway that starts, or a
 * node host that runs a command, should not pay for TypeBox. Each check is the code TypeBox's
 * compiler emits for the schema (kept in the generated check-code files by `npm run schemas`;
 * test/protocol/checks.test.ts fails when one is stale), so it accepts exactly what the schema
 * accepts. Only a value that fails loads the schemas and TypeBox, to word its problems the way the
 * full validator does. The client's own frame checks are in frame-checks.ts, which loads only theirs.
 */
import { CHECK_CODE } from "./check-code.js";
import type { CheckName, Checked } from "./check-schemas.js";
import { CLIENT_CHECK_CODE } from "./client-check-code.js";
import { precompiledChecker } from "./precompiled-check.js";
import type { Validation } from "./validation.js";

/**
 * A checker for the schema named `name`, with the result its full validator gives: the value, or
 * up to `maxErrors` problems as `at /path: message`. Code is built on the first check.
 */
export function checker<K extends CheckName>(
  name: K,
  maxErrors = 5,
): (value: unknown) => Validation<Checked<K>> {
  return precompiledChecker(name, CHECK_CODE[name] ?? CLIENT_CHECK_CODE[name], maxErrors);
}
