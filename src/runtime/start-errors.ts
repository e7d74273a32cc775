/**
 * Why a gateway could not start, as its embedder (createGateway) and the CLI (`gateway run`) see
 * it: the codes of the lower layers it passes on unchanged, plus the assembly's own.
 */
import type { ConfigErrorCode } from "../config/errors.js";
import type { IdentityErrorCode } from "../identity/errors.js";
import type { StoreErrorCode } from "../store/errors.js";

/** The assembly's own reasons. */
export type AssemblyErrorCode =
  /** A custom method was refused at registration (its name or requirement). */
  | "METHOD_REFUSED"
  /** The TLS certificate or key could not be loaded or generated. */
  | "TLS_SETUP_FAILED"
  /** Another process listens on the configured port. */
  | "PORT_IN_USE"
  /** An address to listen on does not exist here or may not be used. */
  | "BIND_FAILED";

/**
 * Every reason a gateway start can fail with: the assembly's own (`METHOD_REFUSED`,
 * `TLS_SETUP_FAILED`, `PORT_IN_USE`, `BIND_FAILED`) and those of config (`CONFIG_INVALID`, ...),
 * store (`STORE_LOCKED`, `STORE_CORRUPT`, ...) and identity (`IDENTITY_MALFORMED`, ...).
 *
 * @example
 * ```ts
 * import type { GatewayStartErrorCode } from "gatehouse-gateway";
 *
 * function advice(code: GatewayStartErrorCode): string {
 *   switch (code) {
 *     case "PORT_IN_USE":
 *       return "another gateway may be running; pick another port";
 *     case "STORE_LOCKED":
 *       return "another gateway uses this state dir";
 *     default:
 *       return "see the error message";
 *   }
 * }
 * console.log(advice("PORT_IN_USE")); // another gateway may be running; pick another port
 * ```
 */
export type GatewayStartErrorCode = AssemblyErrorCode | ConfigErrorCode | StoreErrorCode | IdentityErrorCode;

/**
 * A gateway could not start; `code` says why, `message` says what to do, `subject` names the config
 * key, file, method or address involved. Nothing is left held (lock, port, store) when it is thrown.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { createGateway, GatewayStartError } from "gatehouse-gateway";
 *
 * try {
 *   await createGateway({
 *     stateDir: mkdtempSync(join(tmpdir(), "gatehouse-")),
 *     config: { gateway: { port: 0 } },
 *     methods: { health: { role: "operator", scope: null, handler: () => "mine" } },
 *   });
 * } catch (err) {
 *   if (!(err instanceof GatewayStartError)) throw err;
 *   console.log(err.code, err.subject); // METHOD_REFUSED health
 * }
 * ```
 */
export class GatewayStartError extends Error {
  readonly code: GatewayStartErrorCode;
  /** The config key, file, method or address involved, when there is one. */
  readonly subject?: string;

  constructor(
    code: GatewayStartErrorCode,
    message: string,
    options: { subject?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayStartError";
    this.code = code;
    if (options.subject !== undefined) this.subject = options.subject;
  }
}
