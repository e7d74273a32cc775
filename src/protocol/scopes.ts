/** Operator scope names as the wire spells them (reference §3.2). */

export const OPERATOR_SCOPES = {
  read: "operator.read",
  write: "operator.write",
  admin: "operator.admin",
  approvals: "operator.approvals",
  pairing: "operator.pairing",
  talkSecrets: "operator.talk.secrets",
} as const;

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
