/**
 * The scopes a client asks for when nobody chose them: the grant of work the CLI starts without
 * `--scope`, and the Control UI's ask when it connects. Both are grants, so they are decided here
 * with the rest of who may do what, not beside the flag or the page that uses them; the gateway
 * serves the Control UI its copy (gateway/ui-policy.ts), which is plain JS with no build step.
 */
import { OPERATOR_SCOPES } from "../protocol/scopes.js";

/**
 * What a session or cron job the CLI starts is granted without `--scope`: enough to call back and
 * read, nothing that changes the gateway. Wider grants are a deliberate `--scope` (and never more
 * than the caller holds: work.ts decides that).
 */
export const DEFAULT_JOB_SCOPES: readonly string[] = Object.freeze([OPERATOR_SCOPES.read]);

/**
 * What the Control UI asks for when it connects: admin (audit, sessions, cron), pairing (devices,
 * setup codes), read (status). One ask, so one approval admits every page.
 */
export const CONTROL_UI_SCOPES: readonly string[] = Object.freeze([
  OPERATOR_SCOPES.admin,
  OPERATOR_SCOPES.pairing,
  OPERATOR_SCOPES.read,
]);
