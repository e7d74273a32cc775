/** Column encodings shared by the repositories: string sets as sorted JSON arrays, nullable text. */

/** Sorted and de-duplicated, so equal sets encode to equal text and compare with `===`. */
export function normalizeSet(values: Iterable<string>): string[] {
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

/** True when both lists hold the same strings, ignoring order and repeats. */
export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return encodeSet(a) === encodeSet(b);
}

/** Union of string sets, normalized. */
export function unionSet(...sets: ReadonlyArray<readonly string[]>): string[] {
  return normalizeSet(sets.flat());
}
