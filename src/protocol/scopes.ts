/**
 * Operator scope names as the wire spells them (reference §3.2). `operator.admin` covers every
 * `operator.*` scope and `operator.write` covers `operator.read`.
 *
 * @example
 * ```ts
 * import { OPERATOR_SCOPES } from "gatehouse-gateway/protocol";
 *
 * console.log(OPERATOR_SCOPES.read, OPERATOR_SCOPES.pairing); // operator.read operator.pairing
 * ```
 */
export const OPERATOR_SCOPES = {
  read: "operator.read",
  write: "operator.write",
  admin: "operator.admin",
  approvals: "operator.approvals",
  pairing: "operator.pairing",
  talkSecrets: "operator.talk.secrets",
} as const;

/**
 * One operator scope name (`operator.read`, `operator.write`, ...), e.g. a custom method's scope.
 *
 * @example
 * ```ts
 * import { OPERATOR_SCOPES, type OperatorScope } from "gatehouse-gateway/protocol";
 *
 * const needed: OperatorScope = OPERATOR_SCOPES.write;
 * console.log(needed); // operator.write
 * ```
 */
export type OperatorScope = (typeof OPERATOR_SCOPES)[keyof typeof OPERATOR_SCOPES];

/** Every operator scope the owner holds. */
export const ALL_OPERATOR_SCOPES: readonly string[] = [
  OPERATOR_SCOPES.admin,
  OPERATOR_SCOPES.read,
  OPERATOR_SCOPES.write,
  OPERATOR_SCOPES.approvals,
  OPERATOR_SCOPES.pairing,
  OPERATOR_SCOPES.talkSecrets,
];

/** What the CLI asks for when the caller names no scopes (OpenClaw's CLI default bundle). */
export const CLI_DEFAULT_OPERATOR_SCOPES: readonly string[] = [
  OPERATOR_SCOPES.admin,
  OPERATOR_SCOPES.read,
  OPERATOR_SCOPES.write,
  OPERATOR_SCOPES.approvals,
  OPERATOR_SCOPES.pairing,
];

/** Scope names as the runtime accepts them (`operator.read`, `operator.talk.secrets`, ...). */
export const SCOPE_PATTERN = "^[a-z][a-z0-9_-]*(\\.[a-z0-9_-]+)*$";
