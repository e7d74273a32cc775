/** Ed25519 device identities: create (race-safe), load, sign, derive ids. */
export * from "./keys.js";
export * from "./errors.js";
export * from "./file-store.js";
