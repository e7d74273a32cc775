/** Compiled validators for the wire schemas, with error text in the `at /path: message` form. */
import type { TSchema, Static } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { ConnectParamsSchema, HelloOkSchema } from "./connect.js";
import { EventFrameSchema, RequestFrameSchema, ResponseFrameSchema } from "./frames.js";

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** Compiles `schema` once and returns a checker reporting at most `maxErrors` problems. */
export function compileValidator<S extends TSchema>(schema: S, maxErrors = 5) {
  const compiled = TypeCompiler.Compile(schema);
  return (value: unknown): Validation<Static<S>> => {
    if (compiled.Check(value)) return { ok: true, value };
    const errors: string[] = [];
    for (const e of compiled.Errors(value)) {
      errors.push(`at ${e.path || "/"}: ${e.message}`);
      if (errors.length >= maxErrors) break;
    }
    return { ok: false, errors };
  };
}

export const validateRequestFrame = compileValidator(RequestFrameSchema);
export const validateResponseFrame = compileValidator(ResponseFrameSchema);
export const validateEventFrame = compileValidator(EventFrameSchema);
export const validateConnectParams = compileValidator(ConnectParamsSchema);
export const validateHelloOk = compileValidator(HelloOkSchema);

/**
 * Canonicalizes fields the protocol treats case-insensitively before validation: `client.id`.
 * Returns a shallow copy; the input is not modified.
 */
export function canonicalizeConnectParams(params: unknown): unknown {
  if (!isRecord(params) || !isRecord(params.client) || typeof params.client.id !== "string") return params;
  return { ...params, client: { ...params.client, id: params.client.id.trim().toLowerCase() } };
}

/** True for plain JSON objects (not arrays, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
