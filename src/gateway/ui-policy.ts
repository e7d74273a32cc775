/**
 * The policy's values the Control UI needs, as an ES module the gateway serves at `/policy.js`:
 * the scopes the UI asks for. The UI is plain static JS with no build step; serving its copy from
 * the policy means the page cannot ask for something the policy did not decide.
 */
import { CONTROL_UI_SCOPES } from "../policy/client-defaults.js";

/** URL path the module is served at, next to the UI's own files. */
export const UI_POLICY_PATH = "/policy.js";

/** The module's text: `export const UI_SCOPES = [...]`. */
export function uiPolicyModule(): string {
  return (
    "// Served by the gateway from its policy (src/policy/client-defaults.ts); never edited by hand.\n" +
    `export const UI_SCOPES = Object.freeze(${JSON.stringify(CONTROL_UI_SCOPES)});\n`
  );
}
