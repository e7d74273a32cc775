/**
 * The error table's columns the Control UI needs, as an ES module the gateway serves at
 * `/error-table.js`. The UI is plain static JS with no build step; serving its copy from the one
 * table means it can never drift from what the gateway sends.
 */
import { ERROR_TABLE, errorMeaning, type GatewayErrorCode } from "../protocol/errors.js";

/** URL path the module is served at, next to the UI's own files. */
export const UI_ERROR_TABLE_PATH = "/error-table.js";

/** The module's text: `export const ERROR_MEANINGS = {CODE: {retry, credential, nextStep, hint, remedy}}`. */
export function uiErrorTableModule(): string {
  const rows: Record<string, unknown> = {};
  for (const code of Object.keys(ERROR_TABLE) as GatewayErrorCode[]) {
    const { retry, credential, nextStep, hint, remedy } = errorMeaning(code);
    rows[code] = {
      retry,
      credential: credential ?? null,
      nextStep: nextStep ?? null,
      hint: hint ?? null,
      remedy: remedy ?? null,
    };
  }
  return (
    "// Served by the gateway from its error table (src/protocol/errors.ts); never edited by hand.\n" +
    `export const ERROR_MEANINGS = Object.freeze(${JSON.stringify(rows, null, 2)});\n`
  );
}
