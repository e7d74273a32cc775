/**
 * The checks a client runs on every frame it reads (response, event, hello-ok). They run the
 * precompiled code of client-check-code.ts alone: importing the client loads neither TypeBox nor
 * the code of the schemas only the gateway checks (test/client/lean-import.test.ts). A frame that
 * fails loads the full validator to word its problems.
 */
import { CLIENT_CHECK_CODE } from "./client-check-code.js";
import { precompiledChecker } from "./precompiled-check.js";

/** Checks a response frame (validate.ts publishes it as `validateResponseFrame`). */
export const checkResponseFrame = precompiledChecker("ResponseFrame", CLIENT_CHECK_CODE.ResponseFrame);
/** Checks an event frame (validate.ts publishes it as `validateEventFrame`). */
export const checkEventFrame = precompiledChecker("EventFrame", CLIENT_CHECK_CODE.EventFrame);
/** Checks a hello-ok payload (validate.ts publishes it as `validateHelloOk`). */
export const checkHelloOk = precompiledChecker("HelloOk", CLIENT_CHECK_CODE.HelloOk);
