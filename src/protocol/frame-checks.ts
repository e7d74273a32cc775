/**
 * The checks a client runs on every frame it reads (response, event, hello-ok): the validators of
 * validate.ts, which run precompiled code and load TypeBox only for a frame that fails.
 */
export {
  validateEventFrame as checkEventFrame,
  validateHelloOk as checkHelloOk,
  validateResponseFrame as checkResponseFrame,
} from "./validate.js";
