/**
 * Validators for the wire frames, with error text in the `at /path: message` form. They run the
 * precompiled checks (checks.ts; the client's three frames from frame-checks.ts): importing them
 * does not load TypeBox.
 */
import { checker } from "./checks.js";
import { checkEventFrame, checkHelloOk, checkResponseFrame } from "./frame-checks.js";
import { isRecord } from "./json.js";
import type { Validation } from "./validation.js";

export { isRecord, type Validation };

/**
 * Checks that a value is a request frame as the schema says (unknown fields refused where the schema
 * closes them); see {@link Validation}.
 *
 * @example
 * ```ts
 * import { validateRequestFrame } from "gatehouse-gateway/protocol";
 *
 * console.log(validateRequestFrame({ type: "req", id: "1", method: "health" }).ok, validateRequestFrame({ type: "req", id: "1" }).ok); // true false
 * ```
 */
export const validateRequestFrame = checker("RequestFrame");
/**
 * Checks that a value is a response frame as the schema says (unknown fields refused where the schema
 * closes them); see {@link Validation}.
 *
 * @example
 * ```ts
 * import { validateResponseFrame } from "gatehouse-gateway/protocol";
 *
 * console.log(validateResponseFrame({ type: "res", id: "1", ok: true, payload: {} }).ok, validateResponseFrame({ type: "res", ok: true }).ok); // true false
 * ```
 */
export const validateResponseFrame = checkResponseFrame;
/**
 * Checks that a value is an event frame as the schema says (unknown fields refused where the schema
 * closes them); see {@link Validation}.
 *
 * @example
 * ```ts
 * import { validateEventFrame } from "gatehouse-gateway/protocol";
 *
 * console.log(validateEventFrame({ type: "event", event: "tick", payload: { ts: 0 } }).ok, validateEventFrame({ type: "event" }).ok); // true false
 * ```
 */
export const validateEventFrame = checkEventFrame;
/**
 * Checks that a value is `connect` params as the schema says (unknown fields refused where the schema
 * closes them); see {@link Validation}.
 *
 * @example
 * ```ts
 * import { validateConnectParams } from "gatehouse-gateway/protocol";
 *
 * console.log(validateConnectParams({ minProtocol: 4, maxProtocol: 4, client: { id: "cli", version: "1.0.0", platform: "linux", mode: "cli" } }).ok, validateConnectParams({ minProtocol: 4 }).ok); // true false
 * ```
 */
export const validateConnectParams = checker("ConnectParams");
/**
 * Checks that a value is a hello-ok payload as the schema says (unknown fields refused where the schema
 * closes them); see {@link Validation}.
 *
 * @example
 * ```ts
 * import { validateHelloOk } from "gatehouse-gateway/protocol";
 *
 * console.log(validateHelloOk({ type: "hello-ok", protocol: 4, server: { version: "1", connId: "c" }, features: { methods: [], events: [] }, snapshot: {}, auth: { role: "operator", scopes: [] }, policy: { maxPayload: 1, maxBufferedBytes: 1, tickIntervalMs: 1 } }).ok, validateHelloOk({ type: "hello-ok" }).ok); // true false
 * ```
 */
export const validateHelloOk = checkHelloOk;

/**
 * Canonicalizes fields the protocol treats case-insensitively before validation: `client.id`.
 * Returns a shallow copy; the input is not modified.
 */
export function canonicalizeConnectParams(params: unknown): unknown {
  if (!isRecord(params) || !isRecord(params.client) || typeof params.client.id !== "string") return params;
  return { ...params, client: { ...params.client, id: params.client.id.trim().toLowerCase() } };
}
