/** Column encodings shared by the repositories: string sets as sorted JSON arrays, nullable text. */
import { isGatewayRole, type GatewayRole } from "../protocol/client-info.js";

/** Sorted and de-duplicated, so equal sets encode to equal text and compare with `===`. */
export function normalizeSet<T extends string>(values: Iterable<T>): T[] {
  return [...new Set(values)].sort();
}

/** A string set as the JSON text the `*_json` columns hold. */
export function encodeSet(values: Iterable<string>): string {
  return JSON.stringify(normalizeSet(values));
}

/** Reads a `*_json` set column; anything but an array of strings reads as empty (fail closed). */
export function decodeSet(text: string | null): string[] {
  if (text === null) return [];
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** Reads a roles column; a role this gateway does not know grants nothing, so it is dropped. */
export function decodeRoles(text: string | null): GatewayRole[] {
  return decodeSet(text).filter(isGatewayRole);
}

/** True when both lists hold the same strings, ignoring order and repeats. */
export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return encodeSet(a) === encodeSet(b);
}

/** Union of string sets, normalized. */
export function unionSet<T extends string>(...sets: ReadonlyArray<readonly T[]>): T[] {
  return normalizeSet(sets.flat());
}
