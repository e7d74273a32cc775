/**
 * Editing gatehouse.json one key at a time (`gatehouse config get|set|unset`): a value given as
 * text is read as the key's type, the whole edited file is validated like the gateway validates
 * it at start (each key, then the rules across keys), and only a valid file is written, in one
 * atomic replace. A refused edit leaves the file as it was.
 */
import { assertSafeBind } from "./bind.js";
import { ConfigError, invalidValue } from "./errors.js";
import { readConfigFile, writeConfigFile } from "./file.js";
import { resolveGateway } from "./resolve.js";
import type { ConfigKey } from "./types.js";
import { validateConfigFile } from "./validate.js";

/** How a key's value is written on the command line. */
export type ConfigValueKind = "integer" | "boolean" | "string" | "list" | "secret" | "json";

/** Every key `config` edits, with its kind and one line saying what it does. */
export const CONFIG_KEYS: Readonly<Record<ConfigKey, { kind: ConfigValueKind; about: string }>> = {
  "gateway.port": { kind: "integer", about: "TCP port the gateway listens on (default 18789)" },
  "gateway.bind": { kind: "string", about: "loopback | lan | custom (with gateway.customBindHost)" },
  "gateway.customBindHost": { kind: "string", about: 'IP address to listen on when bind is "custom"' },
  "gateway.auth.mode": {
    kind: "string",
    about: "token | password | none (none: loopback only) | trusted-proxy",
  },
  "gateway.auth.token": { kind: "secret", about: "the shared token (generated at first start)" },
  "gateway.auth.password": { kind: "secret", about: "the shared password (auth.mode password)" },
  "gateway.auth.identityScopes": {
    kind: "json",
    about: 'trusted-proxy: {"user": ["operator.read", ...]} scopes of device-less proxy users',
  },
  "gateway.auth.trustedProxy": {
    kind: "json",
    about:
      "trusted-proxy: userHeader, requiredHeaders, allowUsers, allowLoopback, assertion, deviceAutoApprove",
  },
  "gateway.trustedProxies": { kind: "list", about: "IPs or CIDR ranges whose forwarded headers count" },
  "gateway.controlUi.allowedOrigins": {
    kind: "list",
    about: "more browser origins allowed to open the UI's socket (the gateway's own are always)",
  },
  "gateway.handshakeTimeoutMs": { kind: "integer", about: "ms a client has to finish its connect" },
  "gateway.pairing.autoApproveLocal": {
    kind: "boolean",
    about: "approve new devices on loopback silently (default true)",
  },
  "gateway.pairing.pendingTtlMs": { kind: "integer", about: "ms a pairing request stays pending" },
  "gateway.limits.maxConnections": { kind: "integer", about: "connections in total" },
  "gateway.limits.maxConnectionsPerIp": { kind: "integer", about: "connections per client address" },
  "gateway.tls.enabled": { kind: "boolean", about: "serve wss:// (self-signed unless certPath/keyPath)" },
  "gateway.tls.autoGenerate": { kind: "boolean", about: "generate a self-signed certificate if none" },
  "gateway.tls.certPath": { kind: "string", about: "PEM certificate (with gateway.tls.keyPath)" },
  "gateway.tls.keyPath": { kind: "string", about: "PEM private key (with gateway.tls.certPath)" },
  "gateway.sandbox.mode": { kind: "string", about: "bwrap | none (none: children unsandboxed)" },
  "gateway.sandbox.user": { kind: "string", about: "user children run as when the gateway is root" },
  "gateway.sandbox.readOnlyPaths": { kind: "list", about: "absolute paths children see read-only" },
};

/** Whether `key` is one `config` knows. */
export function isConfigKey(key: string): key is ConfigKey {
  return Object.hasOwn(CONFIG_KEYS, key);
}

/** The key, or a CONFIG_INVALID error listing what exists (closest first when a prefix matches). */
export function checkConfigKey(key: string): ConfigKey {
  if (isConfigKey(key)) return key;
  const near = Object.keys(CONFIG_KEYS).filter((k) => k.startsWith(key) || k.endsWith(`.${key}`));
  const hint = near.length > 0 ? `did you mean ${near.join(" or ")}?` : "gatehouse config get lists them";
  throw new ConfigError("CONFIG_INVALID", `${key}: not a configuration key (${hint})`, { key });
}

/** A command-line value read as the key's type; a value of the wrong type is left for validation to name. */
export function parseConfigValue(key: ConfigKey, text: string): unknown {
  switch (CONFIG_KEYS[key].kind) {
    case "integer":
      return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text;
    case "boolean":
      return text === "true" ? true : text === "false" ? false : text;
    case "list": {
      const t = text.trim();
      if (t.startsWith("[")) {
        try {
          return JSON.parse(t) as unknown;
        } catch {
          throw invalidValue(key, 'must be a JSON array such as ["a","b"], or a comma-separated list');
        }
      }
      return t === "" ? [] : t.split(",").map((s) => s.trim());
    }
    case "json":
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw invalidValue(key, 'must be a JSON object, e.g. \'{"userHeader":"x-forwarded-user"}\'');
      }
    case "string":
    case "secret":
      return text;
  }
}

/** The value at a dotted key of a parsed file (undefined when absent). */
export function getAt(data: unknown, key: string): unknown {
  let at: unknown = data;
  for (const part of key.split(".")) {
    if (at === null || typeof at !== "object" || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** A copy of `data` with `key` set to `value`, or removed (and empty parents with it) when undefined. */
export function withValue(
  data: Record<string, unknown>,
  key: string,
  value: unknown,
): Record<string, unknown> {
  const copy = structuredClone(data);
  const parts = key.split(".");
  const parents: Record<string, unknown>[] = [copy];
  let at = copy;
  for (const part of parts.slice(0, -1)) {
    const next = at[part];
    if (next === null || typeof next !== "object" || Array.isArray(next)) {
      if (value === undefined) return copy;
      at[part] = {};
    }
    at = at[part] as Record<string, unknown>;
    parents.push(at);
  }
  const leaf = parts.at(-1)!;
  if (value !== undefined) {
    at[leaf] = value;
    return copy;
  }
  delete at[leaf];
  for (let i = parents.length - 1; i > 0; i--) {
    if (Object.keys(parents[i]!).length > 0) break;
    delete parents[i - 1]![parts[i - 1]!];
  }
  return copy;
}

/**
 * Refuses a file the gateway would refuse at start: every key, then the rules across keys (a
 * custom bind needs its host, auth none only on loopback, ...). Messages name the key.
 */
export function checkWholeFile(data: unknown): void {
  const file = validateConfigFile(data);
  const { gateway } = resolveGateway(file, {}, {});
  assertSafeBind(gateway);
}

/** The parsed file as an object to edit (absent: empty). */
export function readEditableFile(path: string): Record<string, unknown> {
  const data = readConfigFile(path);
  if (data === undefined) return {};
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new ConfigError("CONFIG_INVALID", `config file ${path} must hold a JSON object`, { path });
  }
  return data as Record<string, unknown>;
}

/** Whether an error about `errKey` (`gateway.trustedProxies[0]`) is about the edited `key` itself. */
function ownKey(key: string, errKey: string | undefined): boolean {
  return errKey === key || (errKey?.startsWith(`${key}[`) ?? false);
}

/**
 * Sets (or, with a value of undefined, removes) keys of the config file at `path`, all at once;
 * validates the result as a whole and replaces the file atomically. Returns whether it changed.
 */
export function editConfigFile(
  path: string,
  edits: ReadonlyArray<readonly [ConfigKey, unknown]>,
): { changed: boolean } {
  const before = readEditableFile(path);
  const after = edits.reduce((data, [key, value]) => withValue(data, key, value), before);
  if (JSON.stringify(after) === JSON.stringify(before)) return { changed: false };
  try {
    checkWholeFile(after);
  } catch (err) {
    // A rule across keys names another key (or says "refusing to start"): say which edit hit it.
    if (!(err instanceof ConfigError) || edits.some(([key]) => ownKey(key, err.key))) throw err;
    const why = err.message.replace(/^refusing to start: /, "the gateway would refuse to start: ");
    const keys = edits.map(([key]) => key).join(", ");
    const other = err.key
      ? ` (set both in one command: gatehouse config set ${keys.split(", ")[0]} <value> ${err.key} <value>)`
      : "";
    throw new ConfigError("CONFIG_INVALID", `${keys}: not changed, ${why}${other}`, {
      key: edits[0]![0],
      path,
    });
  }
  writeConfigFile(path, after);
  return { changed: true };
}
