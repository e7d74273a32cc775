/** Public-key comparison for pinning: the same key may be spelled as base64url, base64 or PEM. */
import { decodePublicKeyBytes } from "../identity/keys.js";

/** True when both texts encode the same public key bytes. */
export function sameKey(a: string, b: string): boolean {
  if (a === b) return true;
  const x = decodePublicKeyBytes(a);
  const y = decodePublicKeyBytes(b);
  return x !== null && y !== null && x.equals(y);
}
