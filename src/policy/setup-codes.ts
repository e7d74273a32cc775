/**
 * What each setup-code profile pre-approves, and what minting it requires. A code never grants more
 * than its minter holds: `operator-limited` needs the scopes it hands out, `operator-full` and `node`
 * need `operator.admin` (the node role is exec on another machine, like approving a node, C19). The
 * decision itself is `decideManagement`'s `mint-setup-code` action.
 */
import type { GatewayRole } from "../protocol/client-info.js";
import { ALL_OPERATOR_SCOPES, OPERATOR_SCOPES } from "../protocol/scopes.js";
import type { SetupCodeProfile } from "../protocol/setup-code.js";

export interface ProfileGrant {
  roles: GatewayRole[];
  scopes: string[];
}

/** The roles and scopes a device redeeming a code of this profile is approved with, exactly. */
export function profileGrant(profile: SetupCodeProfile): ProfileGrant {
  switch (profile) {
    case "operator-limited":
      return {
        roles: ["operator"],
        scopes: [OPERATOR_SCOPES.approvals, OPERATOR_SCOPES.read, OPERATOR_SCOPES.write],
      };
    case "operator-full":
      return { roles: ["operator"], scopes: [...ALL_OPERATOR_SCOPES].sort() };
    case "node":
      return { roles: ["node"], scopes: [] };
  }
}

/** The scopes a caller must hold (besides `operator.pairing` for the method) to mint `profile`. */
export function mintRequirement(profile: SetupCodeProfile): string[] {
  return profile === "operator-limited" ? profileGrant(profile).scopes : [OPERATOR_SCOPES.admin];
}
