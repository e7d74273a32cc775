/**
 * Where device tokens issued in `hello-ok` live between runs, keyed by (deviceId, role). The store
 * is pluggable so apps can keep tokens in a keychain; the file store matches OpenClaw's shape.
 */
import { isGatewayRole, type GatewayRole } from "../protocol/client-info.js";
import { isRecord } from "../protocol/json.js";
import { writeSecretJson } from "../util/secret-file.js";
import { GatewayClientError } from "./errors.js";
// Built-ins by getBuiltinModule, not `import`: an ES import of one evaluates all its lazy parts
// (fs.promises, crypto.webcrypto, ...), a measurable share of a sub-agent's call-back (bench/README.md).
const { readFileSync } = process.getBuiltinModule("node:fs");

/**
 * One stored device token with the role and scopes the gateway approved for it.
 *
 * @example
 * ```ts
 * import { MemoryDeviceTokenStore, type DeviceTokenEntry } from "gatehouse-gateway/client";
 *
 * const entry: DeviceTokenEntry = { token: "issued-in-hello-ok", role: "operator", scopes: ["operator.read"], issuedAtMs: Date.now() };
 * const store = new MemoryDeviceTokenStore();
 * store.set("device-id", "operator", entry);
 * console.log(store.get("device-id", "operator")?.scopes); // [ 'operator.read' ]
 * ```
 */
export interface DeviceTokenEntry {
  token: string;
  role: GatewayRole;
  scopes: string[];
  issuedAtMs: number;
  updatedAtMs?: number;
}

type MaybePromise<T> = T | Promise<T>;

/**
 * Where device tokens issued in `hello-ok` live between runs, keyed by (deviceId, role). Methods may
 * be sync or async, so an app can keep tokens in a keychain.
 *
 * @example
 * ```ts
 * import { GatewayClient, type DeviceTokenEntry, type DeviceTokenStore } from "gatehouse-gateway/client";
 *
 * const kept = new Map<string, DeviceTokenEntry>();
 * const keychain: DeviceTokenStore = {
 *   get: async (deviceId, role) => kept.get(`${deviceId}/${role}`),
 *   set: async (deviceId, role, entry) => void kept.set(`${deviceId}/${role}`, entry),
 *   delete: async (deviceId, role) => void kept.delete(`${deviceId}/${role}`),
 * };
 * const client = new GatewayClient({ url: "ws://127.0.0.1:18789", deviceTokenStore: keychain });
 * console.log(client.state); // idle
 * ```
 */
export interface DeviceTokenStore {
  get(deviceId: string, role: GatewayRole): MaybePromise<DeviceTokenEntry | undefined>;
  set(deviceId: string, role: GatewayRole, entry: DeviceTokenEntry): MaybePromise<void>;
  delete(deviceId: string, role: GatewayRole): MaybePromise<void>;
}

function copyEntry(entry: DeviceTokenEntry): DeviceTokenEntry {
  return { ...entry, scopes: [...entry.scopes] };
}

/**
 * Device tokens for the life of the process: the default, so nothing is written to disk unless
 * the caller opts in (see {@link FileDeviceTokenStore}).
 *
 * @example
 * ```ts
 * import { MemoryDeviceTokenStore } from "gatehouse-gateway/client";
 *
 * const store = new MemoryDeviceTokenStore();
 * store.set("device-id", "operator", { token: "t", role: "operator", scopes: [], issuedAtMs: 0 });
 * store.delete("device-id", "operator");
 * console.log(store.get("device-id", "operator")); // undefined
 * ```
 */
export class MemoryDeviceTokenStore implements DeviceTokenStore {
  private readonly entries = new Map<string, DeviceTokenEntry>();

  get(deviceId: string, role: GatewayRole): DeviceTokenEntry | undefined {
    const entry = this.entries.get(key(deviceId, role));
    return entry ? copyEntry(entry) : undefined;
  }

  set(deviceId: string, role: GatewayRole, entry: DeviceTokenEntry): void {
    this.entries.set(key(deviceId, role), {
      ...copyEntry(entry),
      updatedAtMs: entry.updatedAtMs ?? Date.now(),
    });
  }

  delete(deviceId: string, role: GatewayRole): void {
    this.entries.delete(key(deviceId, role));
  }
}

function key(deviceId: string, role: GatewayRole): string {
  return JSON.stringify([deviceId, role]);
}

interface TokenFile {
  version: 1;
  devices: Record<string, Record<string, Required<DeviceTokenEntry>>>;
}

/**
 * Device tokens in a JSON file (`{version:1, devices:{[deviceId]:{[role]:entry}}}`, OpenClaw's
 * `device-auth.json`), mode 0600 in a 0700 directory. Writes go to a temp file renamed into place so
 * a crash never leaves half a file; a corrupt file is reported and left alone, since wiping it would
 * silently unpair the device.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { FileDeviceTokenStore } from "gatehouse-gateway/client";
 *
 * const path = join(mkdtempSync(join(tmpdir(), "device-")), "device-auth.json");
 * new FileDeviceTokenStore(path).set("device-id", "operator", { token: "t", role: "operator", scopes: ["operator.read"], issuedAtMs: 0 });
 * console.log(new FileDeviceTokenStore(path).get("device-id", "operator")?.scopes); // [ 'operator.read' ]
 * ```
 */
export class FileDeviceTokenStore implements DeviceTokenStore {
  constructor(readonly path: string) {}

  get(deviceId: string, role: GatewayRole): DeviceTokenEntry | undefined {
    const roles = ownValue(this.read().devices, deviceId);
    const entry = roles ? ownValue(roles, role) : undefined;
    return entry ? copyEntry(entry) : undefined;
  }

  set(deviceId: string, role: GatewayRole, entry: DeviceTokenEntry): void {
    const file = this.read();
    const roles = ownValue(file.devices, deviceId) ?? emptyRecord<Required<DeviceTokenEntry>>();
    roles[role] = {
      token: entry.token,
      role: entry.role,
      scopes: [...entry.scopes],
      issuedAtMs: entry.issuedAtMs,
      updatedAtMs: Date.now(),
    };
    file.devices[deviceId] = roles;
    this.write(file);
  }

  delete(deviceId: string, role: GatewayRole): void {
    const file = this.read();
    const roles = ownValue(file.devices, deviceId);
    if (!roles || !Object.hasOwn(roles, role)) return;
    delete roles[role];
    if (Object.keys(roles).length === 0) delete file.devices[deviceId];
    this.write(file);
  }

  private read(): TokenFile {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, devices: emptyRecord() };
      throw this.failure(`cannot read device token store ${this.path}: ${errno(cause)}`, cause);
    }
    return this.parse(text);
  }

  private parse(text: string): TokenFile {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw this.corrupt("not valid JSON");
    }
    if (!isRecord(data)) throw this.corrupt("not a JSON object");
    if (data.version !== 1) throw this.corrupt(`unsupported version ${JSON.stringify(data.version)}`);
    if (!isRecord(data.devices)) throw this.corrupt("`devices` is not an object");
    const devices: TokenFile["devices"] = emptyRecord();
    for (const [deviceId, roles] of Object.entries(data.devices)) {
      if (!isRecord(roles)) throw this.corrupt(`device ${deviceId} is not an object`);
      const out = emptyRecord<Required<DeviceTokenEntry>>();
      for (const [role, entry] of Object.entries(roles)) {
        // A token for a role no gateway of this protocol grants can never be sent: skipped, not fatal.
        if (!isGatewayRole(role)) continue;
        if (
          !isRecord(entry) ||
          typeof entry.token !== "string" ||
          !Array.isArray(entry.scopes) ||
          !entry.scopes.every((s) => typeof s === "string") ||
          typeof entry.issuedAtMs !== "number"
        ) {
          throw this.corrupt(`entry for device ${deviceId} role ${role} is malformed`);
        }
        out[role] = {
          token: entry.token,
          role,
          scopes: entry.scopes as string[],
          issuedAtMs: entry.issuedAtMs,
          updatedAtMs: typeof entry.updatedAtMs === "number" ? entry.updatedAtMs : entry.issuedAtMs,
        };
      }
      devices[deviceId] = out;
    }
    return { version: 1, devices };
  }

  private write(file: TokenFile): void {
    try {
      writeSecretJson(this.path, file);
    } catch (cause) {
      throw this.failure(`cannot write device token store ${this.path}: ${errno(cause)}`, cause);
    }
  }

  private corrupt(why: string): GatewayClientError {
    return this.failure(
      `device token store ${this.path} is corrupt (${why}); it was left untouched — fix or remove it`,
    );
  }

  private failure(message: string, cause?: unknown): GatewayClientError {
    return new GatewayClientError("TOKEN_STORE_FAILED", message, cause === undefined ? {} : { cause });
  }
}

/** Null-prototype map, so ids such as `__proto__` in a file stay plain keys. */
function emptyRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function ownValue<T>(record: Record<string, T>, k: string): T | undefined {
  return Object.hasOwn(record, k) ? record[k] : undefined;
}

function errno(cause: unknown): string {
  const e = cause as NodeJS.ErrnoException | undefined;
  return e?.code ?? (cause instanceof Error ? cause.message : String(cause));
}
