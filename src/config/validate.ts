/**
 * Pure validation of the parsed config file and of single values. Each problem becomes a
 * {@link ConfigError} naming the key (or env variable, or flag) and what is wrong with it.
 */
import { isIP } from "node:net";
import { ConfigError, invalidValue } from "./errors.js";
import { isAbsolute } from "node:path";
import { ALL_OPERATOR_SCOPES } from "../protocol/scopes.js";
import {
  AUTH_MODES,
  BIND_MODES,
  SANDBOX_MODES,
  type AuthMode,
  type BindMode,
  type SandboxMode,
  type TrustedProxyAssertion,
} from "./types.js";

/** What the file sets, validated; absent keys stay absent so lower layers can fill them. */
export interface GatewayFileConfig {
  port?: number;
  bind?: BindMode;
  customBindHost?: string;
  auth?: {
    mode?: AuthMode;
    token?: string;
    password?: string;
    identityScopes?: Record<string, string[]>;
    trustedProxy?: TrustedProxyFileConfig;
  };
  trustedProxies?: string[];
  controlUi?: { allowedOrigins?: string[] };
  handshakeTimeoutMs?: number;
  pairing?: { autoApproveLocal?: boolean; pendingTtlMs?: number };
  limits?: { maxConnections?: number; maxConnectionsPerIp?: number };
  tls?: { enabled?: boolean; autoGenerate?: boolean; certPath?: string; keyPath?: string };
  sandbox?: { mode?: SandboxMode; user?: string; readOnlyPaths?: string[] };
}

/** `gateway.auth.trustedProxy` as the file sets it (defaults are filled in by resolve). */
export interface TrustedProxyFileConfig {
  userHeader?: string;
  requiredHeaders?: string[];
  allowUsers?: string[];
  allowLoopback?: boolean;
  assertion?: TrustedProxyAssertion;
  deviceAutoApprove?: { enabled?: boolean; scopes?: string[] };
}

// Node's timers fire at once for delays above 2^31-1 ms, which would make every handshake time out.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Validates the parsed JSON of a config file (`undefined` = no file); `path` goes into messages. */
export function validateConfigFile(data: unknown, path?: string): GatewayFileConfig {
  if (data === undefined) return {};
  if (kind(data) !== "object") {
    const file = path === undefined ? "the config file" : `config file ${path}`;
    throw new ConfigError("CONFIG_INVALID", `${file} must hold a JSON object (got ${kind(data)})`, { path });
  }
  const root = data as Record<string, unknown>;
  onlyKeys(root, "", ["gateway"], path);
  if (root.gateway === undefined) return {};
  const gw = object(root.gateway, "gateway", path);
  onlyKeys(
    gw,
    "gateway.",
    [
      "port",
      "bind",
      "customBindHost",
      "auth",
      "trustedProxies",
      "controlUi",
      "handshakeTimeoutMs",
      "pairing",
      "limits",
      "tls",
      "sandbox",
    ],
    path,
  );
  const out: GatewayFileConfig = {};
  if (gw.port !== undefined) out.port = checkPort(gw.port, "gateway.port", { path });
  if (gw.bind !== undefined) out.bind = checkBind(gw.bind, "gateway.bind", path);
  if (gw.customBindHost !== undefined) {
    out.customBindHost = checkIpLiteral(gw.customBindHost, "gateway.customBindHost", path);
  }
  if (gw.auth !== undefined) {
    const auth = object(gw.auth, "gateway.auth", path);
    onlyKeys(auth, "gateway.auth.", ["mode", "token", "password", "identityScopes", "trustedProxy"], path);
    out.auth = {};
    if (auth.mode !== undefined) out.auth.mode = checkAuthMode(auth.mode, "gateway.auth.mode", path);
    if (auth.token !== undefined) out.auth.token = checkSecret(auth.token, "gateway.auth.token", path);
    if (auth.password !== undefined) {
      out.auth.password = checkSecret(auth.password, "gateway.auth.password", path);
    }
    if (auth.identityScopes !== undefined) {
      out.auth.identityScopes = checkIdentityScopes(auth.identityScopes, "gateway.auth.identityScopes", path);
    }
    if (auth.trustedProxy !== undefined) {
      out.auth.trustedProxy = checkTrustedProxy(auth.trustedProxy, "gateway.auth.trustedProxy", path);
    }
  }
  if (gw.trustedProxies !== undefined) {
    out.trustedProxies = stringList(gw.trustedProxies, "gateway.trustedProxies", path).map((entry, i) =>
      checkIpOrCidr(entry, `gateway.trustedProxies[${i}]`, path),
    );
  }
  if (gw.controlUi !== undefined) {
    const ui = object(gw.controlUi, "gateway.controlUi", path);
    onlyKeys(ui, "gateway.controlUi.", ["allowedOrigins"], path);
    out.controlUi = {};
    if (ui.allowedOrigins !== undefined) {
      out.controlUi.allowedOrigins = stringList(
        ui.allowedOrigins,
        "gateway.controlUi.allowedOrigins",
        path,
      ).map((entry, i) => checkOrigin(entry, `gateway.controlUi.allowedOrigins[${i}]`, path));
    }
  }
  if (gw.handshakeTimeoutMs !== undefined) {
    out.handshakeTimeoutMs = checkTimeoutMs(gw.handshakeTimeoutMs, "gateway.handshakeTimeoutMs", path);
  }
  if (gw.pairing !== undefined) {
    const pairing = object(gw.pairing, "gateway.pairing", path);
    onlyKeys(pairing, "gateway.pairing.", ["autoApproveLocal", "pendingTtlMs"], path);
    out.pairing = {};
    if (pairing.autoApproveLocal !== undefined) {
      if (typeof pairing.autoApproveLocal !== "boolean") {
        throw invalidValue(
          "gateway.pairing.autoApproveLocal",
          `must be true or false (got ${shown(pairing.autoApproveLocal)})`,
          path,
        );
      }
      out.pairing.autoApproveLocal = pairing.autoApproveLocal;
    }
    if (pairing.pendingTtlMs !== undefined) {
      out.pairing.pendingTtlMs = checkPositiveInt(pairing.pendingTtlMs, "gateway.pairing.pendingTtlMs", path);
    }
  }
  if (gw.limits !== undefined) {
    const limits = object(gw.limits, "gateway.limits", path);
    onlyKeys(limits, "gateway.limits.", ["maxConnections", "maxConnectionsPerIp"], path);
    out.limits = {};
    if (limits.maxConnections !== undefined) {
      out.limits.maxConnections = checkPositiveInt(
        limits.maxConnections,
        "gateway.limits.maxConnections",
        path,
      );
    }
    if (limits.maxConnectionsPerIp !== undefined) {
      out.limits.maxConnectionsPerIp = checkPositiveInt(
        limits.maxConnectionsPerIp,
        "gateway.limits.maxConnectionsPerIp",
        path,
      );
    }
  }
  if (gw.tls !== undefined) {
    const tls = object(gw.tls, "gateway.tls", path);
    onlyKeys(tls, "gateway.tls.", ["enabled", "autoGenerate", "certPath", "keyPath"], path);
    out.tls = {};
    if (tls.enabled !== undefined) out.tls.enabled = checkBoolean(tls.enabled, "gateway.tls.enabled", path);
    if (tls.autoGenerate !== undefined) {
      out.tls.autoGenerate = checkBoolean(tls.autoGenerate, "gateway.tls.autoGenerate", path);
    }
    if (tls.certPath !== undefined) out.tls.certPath = checkPath(tls.certPath, "gateway.tls.certPath", path);
    if (tls.keyPath !== undefined) out.tls.keyPath = checkPath(tls.keyPath, "gateway.tls.keyPath", path);
    if ((out.tls.certPath === undefined) !== (out.tls.keyPath === undefined)) {
      const missing = out.tls.certPath === undefined ? "gateway.tls.certPath" : "gateway.tls.keyPath";
      throw invalidValue(missing, "required together with the other one (a certificate needs its key)", path);
    }
  }
  if (gw.sandbox !== undefined) {
    const sandbox = object(gw.sandbox, "gateway.sandbox", path);
    onlyKeys(sandbox, "gateway.sandbox.", ["mode", "user", "readOnlyPaths"], path);
    out.sandbox = {};
    if (sandbox.mode !== undefined) {
      out.sandbox.mode = oneOf(sandbox.mode, SANDBOX_MODES, "gateway.sandbox.mode", path);
    }
    if (sandbox.user !== undefined)
      out.sandbox.user = checkSandboxUser(sandbox.user, "gateway.sandbox.user", path);
    if (sandbox.readOnlyPaths !== undefined) {
      out.sandbox.readOnlyPaths = stringList(
        sandbox.readOnlyPaths,
        "gateway.sandbox.readOnlyPaths",
        path,
      ).map((entry, i) => checkAbsolutePath(entry, `gateway.sandbox.readOnlyPaths[${i}]`, path));
    }
  }
  return out;
}

/** `user → operator scopes`; users are non-blank strings, scopes known operator scopes. */
function checkIdentityScopes(value: unknown, key: string, path?: string): Record<string, string[]> {
  const map = object(value, key, path);
  const out: Record<string, string[]> = {};
  for (const [user, scopes] of Object.entries(map)) {
    const entryKey = `${key}.${user}`;
    if (user.trim() === "" || user !== user.trim()) {
      throw invalidValue(entryKey, "a user must be a non-blank name without surrounding spaces", path);
    }
    out[user] = checkOperatorScopes(scopes, entryKey, path);
  }
  return out;
}

/** A list of known operator scopes (identity scopes and auto-approval never reach the node role). */
function checkOperatorScopes(value: unknown, key: string, path?: string): string[] {
  return stringList(value, key, path).map((scope, i) => {
    if (!ALL_OPERATOR_SCOPES.includes(scope)) {
      throw invalidValue(
        `${key}[${i}]`,
        `must be an operator scope (${ALL_OPERATOR_SCOPES.join(", ")}), got ${shown(scope)}`,
        path,
      );
    }
    return scope;
  });
}

const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;

/** An HTTP header name, lower-cased (Node lower-cases the names it receives). */
function checkHeaderName(value: unknown, key: string, path?: string): string {
  if (typeof value !== "string" || !HEADER_NAME_RE.test(value)) {
    throw invalidValue(
      key,
      `must be an HTTP header name such as x-forwarded-user (got ${shown(value)})`,
      path,
    );
  }
  return value.toLowerCase();
}

/** `gateway.auth.trustedProxy`, key by key; the rules spanning keys are in resolve.ts. */
function checkTrustedProxy(value: unknown, key: string, path?: string): TrustedProxyFileConfig {
  const tp = object(value, key, path);
  const p = `${key}.`;
  onlyKeys(
    tp,
    p,
    ["userHeader", "requiredHeaders", "allowUsers", "allowLoopback", "assertion", "deviceAutoApprove"],
    path,
  );
  const out: TrustedProxyFileConfig = {};
  if (tp.userHeader !== undefined) out.userHeader = checkHeaderName(tp.userHeader, `${p}userHeader`, path);
  if (tp.requiredHeaders !== undefined) {
    out.requiredHeaders = stringList(tp.requiredHeaders, `${p}requiredHeaders`, path).map((h, i) =>
      checkHeaderName(h, `${p}requiredHeaders[${i}]`, path),
    );
  }
  if (tp.allowUsers !== undefined) {
    out.allowUsers = stringList(tp.allowUsers, `${p}allowUsers`, path).map((u, i) => {
      if (u.trim() === "" || u !== u.trim()) {
        throw invalidValue(
          `${p}allowUsers[${i}]`,
          "must be a non-blank user name without surrounding spaces",
          path,
        );
      }
      return u;
    });
  }
  if (tp.allowLoopback !== undefined)
    out.allowLoopback = checkBoolean(tp.allowLoopback, `${p}allowLoopback`, path);
  if (tp.assertion !== undefined) out.assertion = checkAssertion(tp.assertion, `${p}assertion`, path);
  if (tp.deviceAutoApprove !== undefined) {
    const da = object(tp.deviceAutoApprove, `${p}deviceAutoApprove`, path);
    onlyKeys(da, `${p}deviceAutoApprove.`, ["enabled", "scopes"], path);
    out.deviceAutoApprove = {};
    if (da.enabled !== undefined) {
      out.deviceAutoApprove.enabled = checkBoolean(da.enabled, `${p}deviceAutoApprove.enabled`, path);
    }
    if (da.scopes !== undefined) {
      out.deviceAutoApprove.scopes = checkOperatorScopes(da.scopes, `${p}deviceAutoApprove.scopes`, path);
    }
  }
  return out;
}

/**
 * The assertion block: where the JWT is, one key source, and the issuer and audience it must name.
 * Without an audience any token the same identity provider signs for another application would
 * pass, so an assertion that names none cannot be enforced and is refused.
 */
function checkAssertion(value: unknown, key: string, path?: string): TrustedProxyAssertion {
  const a = object(value, key, path);
  const p = `${key}.`;
  onlyKeys(a, p, ["header", "jwksUrl", "jwksFile", "issuer", "audience", "userClaim"], path);
  if (a.header === undefined)
    throw invalidValue(`${p}header`, "required: the header the proxy puts its JWT in", path);
  const header = checkHeaderName(a.header, `${p}header`, path);
  if ((a.jwksUrl === undefined) === (a.jwksFile === undefined)) {
    throw invalidValue(
      `${p}jwksUrl`,
      "exactly one of jwksUrl and jwksFile is required: the keys the assertion is verified with",
      path,
    );
  }
  if (a.issuer === undefined) {
    throw invalidValue(
      `${p}issuer`,
      "required: the iss every assertion must carry (a JWKS may sign for other issuers)",
      path,
    );
  }
  if (typeof a.issuer !== "string" || a.issuer.trim() === "") {
    throw invalidValue(`${p}issuer`, `must be a non-empty string (got ${shown(a.issuer)})`, path);
  }
  if (a.audience === undefined) {
    throw invalidValue(
      `${p}audience`,
      "required when an assertion is configured: without it a token the same provider issued for another application would be accepted",
      path,
    );
  }
  const audience =
    typeof a.audience === "string" ? [a.audience] : stringList(a.audience, `${p}audience`, path);
  if (audience.length === 0 || audience.some((x) => x.trim() === "")) {
    throw invalidValue(`${p}audience`, "must be a non-empty string or a list of them", path);
  }
  const out: TrustedProxyAssertion = { header, issuer: a.issuer, audience };
  if (a.jwksUrl !== undefined) out.jwksUrl = checkJwksUrl(a.jwksUrl, `${p}jwksUrl`, path);
  if (a.jwksFile !== undefined)
    out.jwksFile = checkAbsolutePath(checkPath(a.jwksFile, `${p}jwksFile`, path), `${p}jwksFile`, path);
  if (a.userClaim !== undefined) {
    if (typeof a.userClaim !== "string" || !/^[A-Za-z0-9_:.-]+$/.test(a.userClaim)) {
      throw invalidValue(
        `${p}userClaim`,
        `must be a claim name such as email or sub (got ${shown(a.userClaim)})`,
        path,
      );
    }
    out.userClaim = a.userClaim;
  }
  return out;
}

/** An https URL; plain http only to a loopback host (a JWKS fetched across a network in the clear can be swapped). */
function checkJwksUrl(value: unknown, key: string, path?: string): string {
  let url: URL | undefined;
  try {
    url = typeof value === "string" ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  const host = url?.hostname.replace(/^\[|\]$/g, "");
  const loopback = host === "localhost" || host === "::1" || (host !== undefined && /^127\./.test(host));
  if (
    !url ||
    !(url.protocol === "https:" || (url.protocol === "http:" && loopback)) ||
    url.username !== "" ||
    url.password !== ""
  ) {
    throw invalidValue(
      key,
      `must be an https:// URL (http:// only on this host's loopback) without credentials (got ${shown(value)})`,
      path,
    );
  }
  return url.href;
}

/** A user children run as: a user name or a numeric uid, never root. */
export function checkSandboxUser(value: unknown, key: string, path?: string): string {
  if (typeof value !== "string" || !/^(?:[a-z_][a-z0-9_.-]{0,31}\$?|\d{1,10})$/i.test(value)) {
    throw invalidValue(key, `must be a user name or a numeric uid (got ${shown(value)})`, path);
  }
  if (value === "root" || /^0+$/.test(value)) {
    throw invalidValue(key, "must not be root: children run as an unprivileged user", path);
  }
  return value;
}

/** An absolute path without NUL bytes. */
function checkAbsolutePath(value: string, key: string, path?: string): string {
  if (!isAbsolute(value) || value.includes("\0")) {
    throw invalidValue(key, `must be an absolute path (got ${shown(value)})`, path);
  }
  return value;
}

/** A TCP port; `allowZero` lets command-line callers ask for any free port. */
export function checkPort(
  value: unknown,
  key: string,
  opts: { allowZero?: boolean; path?: string } = {},
): number {
  const min = opts.allowZero ? 0 : 1;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > 65535) {
    throw invalidValue(key, `must be an integer between ${min} and 65535 (got ${shown(value)})`, opts.path);
  }
  return value as number;
}

/** One of the bind modes. */
export function checkBind(value: unknown, key: string, path?: string): BindMode {
  return oneOf(value, BIND_MODES, key, path);
}

/** One of the auth modes. */
export function checkAuthMode(value: unknown, key: string, path?: string): AuthMode {
  return oneOf(value, AUTH_MODES, key, path);
}

/** An IPv4 or IPv6 literal (no host names: what we bind must not depend on DNS). */
export function checkIpLiteral(value: unknown, key: string, path?: string): string {
  if (typeof value !== "string" || isIP(value) === 0) {
    throw invalidValue(key, `must be an IPv4 or IPv6 address (got ${shown(value)})`, path);
  }
  return value;
}

/** A handshake-style timeout: a positive integer number of milliseconds a timer can hold. */
export function checkTimeoutMs(value: unknown, key: string, path?: string): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_TIMER_MS) {
    throw invalidValue(
      key,
      `must be an integer number of milliseconds between 1 and ${MAX_TIMER_MS} (got ${shown(value)})`,
      path,
    );
  }
  return value as number;
}

/** A shared secret: a non-empty string. The value itself never appears in the message. */
export function checkSecret(value: unknown, key: string, path?: string): string {
  if (typeof value !== "string" || value === "") {
    const got = typeof value === "string" ? "an empty string" : value === null ? "null" : typeof value;
    throw invalidValue(key, `must be a non-empty string (got ${got})`, path);
  }
  return value;
}

function checkBoolean(value: unknown, key: string, path?: string): boolean {
  if (typeof value !== "boolean")
    throw invalidValue(key, `must be true or false (got ${shown(value)})`, path);
  return value;
}

/** A file path: a non-empty string without NUL bytes. */
function checkPath(value: unknown, key: string, path?: string): string {
  if (typeof value !== "string" || value.trim() === "" || value.includes("\0")) {
    throw invalidValue(key, `must be a file path (got ${shown(value)})`, path);
  }
  return value;
}

function checkPositiveInt(value: unknown, key: string, path?: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw invalidValue(key, `must be a positive integer (got ${shown(value)})`, path);
  }
  return value as number;
}

function checkIpOrCidr(value: string, key: string, path?: string): string {
  const slash = value.indexOf("/");
  const address = slash < 0 ? value : value.slice(0, slash);
  const family = isIP(address);
  const prefix = slash < 0 ? "" : value.slice(slash + 1);
  const prefixOk = slash < 0 || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32));
  if (family === 0 || !prefixOk || address.includes("%")) {
    throw invalidValue(
      key,
      `must be an IP address or CIDR range such as 10.0.0.0/8 or fd00::/8 (got ${shown(value)})`,
      path,
    );
  }
  return value;
}

// Browsers send the serialized origin, so entries are stored in that form to compare by equality.
function checkOrigin(value: string, key: string, path?: string): string {
  if (value === "*") return value;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  const bare =
    url !== undefined &&
    (url.protocol === "http:" || url.protocol === "https:") &&
    url.username === "" &&
    url.password === "" &&
    url.pathname === "/" &&
    url.search === "" &&
    url.hash === "" &&
    !/[?#]/.test(value);
  if (!url || !bare) {
    throw invalidValue(
      key,
      `must be an origin like https://host:port (scheme, host and optional port only) or "*" (got ${shown(value)})`,
      path,
    );
  }
  return url.origin;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], key: string, path?: string): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    const list = allowed.map((a) => `"${a}"`).join(", ");
    throw invalidValue(key, `must be one of ${list} (got ${shown(value)})`, path);
  }
  return value as T;
}

function object(value: unknown, key: string, path?: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidValue(key, `must be a JSON object (got ${kind(value)})`, path);
  }
  return value as Record<string, unknown>;
}

function stringList(value: unknown, key: string, path?: string): string[] {
  if (!Array.isArray(value))
    throw invalidValue(key, `must be an array of strings (got ${kind(value)})`, path);
  value.forEach((entry, i) => {
    if (typeof entry !== "string")
      throw invalidValue(`${key}[${i}]`, `must be a string (got ${kind(entry)})`, path);
  });
  return value as string[];
}

function onlyKeys(obj: Record<string, unknown>, prefix: string, known: string[], path?: string): void {
  const unknown = Object.keys(obj).filter((k) => !known.includes(k));
  if (unknown.length === 0) return;
  const names = unknown.map((k) => prefix + k);
  const where = path === undefined ? "" : ` in ${path}`;
  const message = `${names.join(", ")}: unknown key${names.length > 1 ? "s" : ""} (known keys here: ${known.join(", ")})${where}`;
  throw new ConfigError("CONFIG_INVALID", message, { key: names[0], path });
}

/** Short JSON rendering of a non-secret value for messages. */
function shown(value: unknown): string {
  const text = value === undefined ? "undefined" : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}
