/**
 * The checks a client runs on every frame it reads (response, event, hello-ok) without loading
 * TypeBox: a process that only connects and calls back should not pay for the schema library. Each
 * check is the code TypeBox's compiler emits for the schema (kept in frame-check-code.ts by
 * `npm run schemas`; test/protocol/frame-checks.test.ts fails when it is stale), so it accepts
 * exactly what the schema accepts. Only a frame that fails loads the full validators, for the
 * `at /path: message` problems.
 */
import { createRequire } from "node:module";
import type { HelloOk } from "./connect.js";
import { EVENT_FRAME_CHECK, HELLO_OK_CHECK, RESPONSE_FRAME_CHECK } from "./frame-check-code.js";
import type { EventFrame, ResponseFrame } from "./frames.js";
import type * as ValidateModule from "./validate.js";
import type { Validation } from "./validate.js";

type Validators = typeof ValidateModule;

let validators: Validators | undefined;
/** The full validators, loaded on the first frame that fails its check. */
function full(): Validators {
  validators ??= createRequire(import.meta.url)("./validate.js") as Validators;
  return validators;
}

/** Builds a check from compiler output (a function body that returns the check). */
function compiled(code: string): (value: unknown) => boolean {
  return new Function(code)() as (value: unknown) => boolean;
}

const isResponseFrame = compiled(RESPONSE_FRAME_CHECK);
const isEventFrame = compiled(EVENT_FRAME_CHECK);
const isHelloOk = compiled(HELLO_OK_CHECK);

/** Same result as `validateResponseFrame` in validate.ts. */
export function checkResponseFrame(value: unknown): Validation<ResponseFrame> {
  return isResponseFrame(value)
    ? { ok: true, value: value as ResponseFrame }
    : full().validateResponseFrame(value);
}

/** Same result as `validateEventFrame` in validate.ts. */
export function checkEventFrame(value: unknown): Validation<EventFrame> {
  return isEventFrame(value) ? { ok: true, value: value as EventFrame } : full().validateEventFrame(value);
}

/** Same result as `validateHelloOk` in validate.ts. */
export function checkHelloOk(value: unknown): Validation<HelloOk> {
  return isHelloOk(value) ? { ok: true, value: value as HelloOk } : full().validateHelloOk(value);
}
