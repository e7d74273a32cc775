/** Wire contract of OpenClaw gateway protocol 4, as Gatehouse speaks it. */
export * from "./version.js";
export * from "./client-info.js";
export * from "./scopes.js";
export * from "./errors.js";
export * from "./frames.js";
export * from "./connect.js";
export * from "./validate.js";
export * from "./signature-payload.js";
export * from "./compile-validator.js";
