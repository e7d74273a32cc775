// The validators' result type in a module of its own: the checks that produce it and validate.ts,
// which runs them, both need it, and taking it from validate.ts made them import each other.

/**
 * The result of a frame validator: the value when it is valid, else up to five problems as
 * `at /path: message`.
 *
 * @example
 * ```ts
 * import { validateRequestFrame, type RequestFrame, type Validation } from "gatehouse-gateway/protocol";
 *
 * const result: Validation<RequestFrame> = validateRequestFrame({ type: "req", id: "" });
 * if (!result.ok) console.log(result.errors.length > 0); // true
 * ```
 */
export type Validation<T> = { ok: true; value: T } | { ok: false; errors: string[] };
