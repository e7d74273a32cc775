/**
 * The closed vocabulary of device-management and authority rules: every id a management decision's
 * or an authority check's trace can hold, each with exactly one sentence. The audit log, `gatehouse explain` and the Control UI read the
 * sentence from here; the compiler checks that no id is missing one.
 */

export const MANAGEMENT_RULES = {
  "manage-caller-owner-on-host":
    "the caller is the owner on the gateway host (the owner key or the shared secret without a device, direct-local; or the state dir itself): it covers every device it takes rights away from",
  "manage-target-unknown": "there is no such paired device",
  "manage-token-session-own-device-only":
    "a device-token session without operator.admin may only manage its own device",
  "manage-own-device": "the caller acts on its own device",
  "manage-self-approval-refused":
    "a device cannot approve its own request; approve it from the gateway host or another authorized device",
  "manage-node-role-needs-admin": "managing the node role needs operator.admin",
  "manage-grant-within-caller": "the caller holds every scope it grants",
  "manage-grant-exceeds-caller": "nobody grants a scope their own session does not hold",
  "manage-revival-by-approval":
    "the approval revives a revoked role, and the approver covers that role's baseline",
  "manage-revival-needs-baseline-cover":
    "a revoked role comes back only through an approval by someone who covers that role's baseline",
  "manage-covers-target": "the caller covers the device's baseline and the token's scopes",
  "manage-target-wider-than-caller":
    "acting on another device's token or record needs covering that token's scopes and the device's whole baseline",
  "manage-owner-device-owner-key-only": "only the owner key touches the gateway owner device",
  "manage-owner-device-not-removable": "the gateway owner device cannot be removed",
  "manage-owner-roles-not-revocable": "the gateway owner device's roles cannot be revoked",
  "manage-role-not-approved": "the role is not approved for this device",
  "manage-revoked-slot-needs-approval":
    "a revoked role is revived only by an approval, never by rotating its token",
  "manage-rotation-outside-baseline":
    "a rotated token never carries scopes outside the device's approved baseline",
  "manage-see": "the caller may see this device",
  "manage-reject-allowed": "rejecting a request only drops it; the pairing scope suffices",
  "manage-rename-allowed": "renaming changes no rights",
  "manage-mint-within-caller": "a setup code never grants more than its minter holds",
  "manage-mint-exceeds-caller":
    "a setup code of this profile needs the scopes it hands out (operator.admin for operator-full and node)",
  "authority-root":
    "the work rests on a root (the shared secret or the owner key), which no device revocation reaches",
  "authority-creator-removed": "the device the work rests on was removed",
  "authority-creator-role-revoked": "the operator role of the device the work rests on was revoked",
  "authority-creator-narrowed": "the device the work rests on is no longer approved for the work's scopes",
  "authority-creator-covers": "the device the work rests on still holds the work's scopes",
} as const satisfies Record<string, string>;

/** A device-management rule id. */
export type ManagementRuleId = keyof typeof MANAGEMENT_RULES;

/** The one sentence that says what a rule means. */
export function managementRuleSentence(id: ManagementRuleId): string {
  return MANAGEMENT_RULES[id];
}
