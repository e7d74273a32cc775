/**
 * Validators built from a TypeBox schema at run time, with error text in the `at /path: message`
 * form. Loading this module loads TypeBox: the gateway and the client check frames and params with
 * precompiled code (checks.ts) and come here only to word the problems of a value that failed.
 */
import type { TSchema, Static } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import type { Validation } from "./validation.js";

/**
 * Returns a checker for `schema` reporting at most `maxErrors` problems. The schema is compiled
 * once, on the first check: a process compiles only the schemas of what it is asked to do.
 */
export function compileValidator<S extends TSchema>(schema: S, maxErrors = 5) {
  let compiled: TypeCheck<S> | undefined;
  return (value: unknown): Validation<Static<S>> => {
    compiled ??= TypeCompiler.Compile(schema);
    if (compiled.Check(value)) return { ok: true, value };
    const errors: string[] = [];
    for (const e of compiled.Errors(value)) {
      errors.push(`at ${e.path || "/"}: ${e.message}`);
      if (errors.length >= maxErrors) break;
    }
    return { ok: false, errors };
  };
}

/** What TypeBox's compiler emits for `schema`: a function body that returns the check. */
export function checkCode(schema: TSchema): string {
  return TypeCompiler.Code(schema, [], { language: "javascript" });
}
