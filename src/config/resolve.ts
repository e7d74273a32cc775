/**
 * Pure merge of the layers into final settings: flags > env > file > defaults, then the rules that
 * span several keys. No I/O, so the auth resolver can re-run it on every file change.
 */
import { ipInRange, isLoopbackIp } from "../policy/ip.js";
import type { EnvOverrides } from "./env.js";
import { integerOrText } from "./env.js";
import { invalidValue } from "./errors.js";
import type { GatewayFileConfig, TrustedProxyFileConfig } from "./validate.js";
import { checkAuthMode, checkBind, checkIpLiteral, checkPort, checkSecret } from "./validate.js";
import {
  GATEWAY_DEFAULTS,
  type AuthMode,
  type BindMode,
  type ConfigKey,
  type ConfigOverrides,
  type ConfigSource,
  type GatewaySettings,
  type TrustedProxySettings,
} from "./types.js";

/** Command-line values after validation. */
export interface FlagOverrides {
  port?: number;
  bind?: BindMode;
  host?: string;
  authMode?: AuthMode;
  token?: string;
  password?: string;
}

/** Validates command-line overrides; errors name the flag. */
export function checkOverrides(overrides: ConfigOverrides = {}): FlagOverrides {
  const out: FlagOverrides = {};
  const { port, bind, host, authMode, token, password } = overrides;
  if (port !== undefined) {
    out.port = checkPort(typeof port === "string" ? integerOrText(port) : port, "--port", {
      allowZero: true,
    });
  }
  if (bind !== undefined) out.bind = checkBind(bind, "--bind");
  if (host !== undefined) {
    out.host = checkIpLiteral(host, "--host");
    if (out.bind !== undefined && out.bind !== "custom") {
      throw invalidValue("--host", `only applies with --bind custom (got --bind ${out.bind})`);
    }
  }
  if (authMode !== undefined) out.authMode = checkAuthMode(authMode, "--auth");
  if (token !== undefined) out.token = checkSecret(token, "--token");
  if (password !== undefined) out.password = checkSecret(password, "--password");
  return out;
}

/** Merges the layers and applies the cross-key rules; `path` names the file in messages. */
export function resolveGateway(
  file: GatewayFileConfig,
  env: EnvOverrides,
  flags: FlagOverrides,
  path?: string,
): { gateway: GatewaySettings; sources: Record<ConfigKey, ConfigSource> } {
  const sources = {} as Record<ConfigKey, ConfigSource>;
  function pick<T>(key: ConfigKey, layers: [ConfigSource, T | undefined][], fallback: T): T;
  function pick<T>(key: ConfigKey, layers: [ConfigSource, T | undefined][]): T | undefined;
  function pick<T>(key: ConfigKey, layers: [ConfigSource, T | undefined][], fallback?: T): T | undefined {
    for (const [source, value] of layers) {
      if (value !== undefined) {
        sources[key] = source;
        return value;
      }
    }
    sources[key] = "default";
    return fallback;
  }
  const d = GATEWAY_DEFAULTS;

  const port = pick(
    "gateway.port",
    [
      ["flag", flags.port],
      ["env", env.port],
      ["file", file.port],
    ],
    d.port,
  );
  const hostImpliesCustom = flags.host !== undefined ? ("custom" as const) : undefined;
  const bind = pick(
    "gateway.bind",
    [
      ["flag", flags.bind ?? hostImpliesCustom],
      ["file", file.bind],
    ],
    d.bind,
  );
  const customBindHost = pick("gateway.customBindHost", [
    ["flag", flags.host],
    ["file", file.customBindHost],
  ]);
  if (bind === "custom" && customBindHost === undefined) {
    throw invalidValue(
      "gateway.customBindHost",
      'required when gateway.bind is "custom" (or pass --host)',
      path,
    );
  }

  const token = pick("gateway.auth.token", [
    ["flag", flags.token],
    ["env", env.token],
    ["file", file.auth?.token],
  ]);
  const password = pick("gateway.auth.password", [
    ["flag", flags.password],
    ["env", env.password],
    ["file", file.auth?.password],
  ]);
  const explicitMode = pick("gateway.auth.mode", [
    ["flag", flags.authMode],
    ["file", file.auth?.mode],
  ]);
  if (explicitMode === undefined && token !== undefined && password !== undefined) {
    // Guessing here could silently switch which secret guards the gateway.
    throw invalidValue(
      "gateway.auth.mode",
      'must be set to "token" or "password" when both a token and a password are configured',
      path,
    );
  }
  const mode: AuthMode = explicitMode ?? (password !== undefined ? "password" : "token");
  if (mode === "password" && password === undefined) {
    throw invalidValue(
      "gateway.auth.password",
      'required when gateway.auth.mode is "password" (set it in the file or GATEHOUSE_GATEWAY_PASSWORD)',
      path,
    );
  }

  const trustedProxies = [
    ...pick("gateway.trustedProxies", [["file", file.trustedProxies]], d.trustedProxies),
  ];
  const identityScopes = pick("gateway.auth.identityScopes", [["file", file.auth?.identityScopes]]);
  const trustedProxyFile = pick("gateway.auth.trustedProxy", [["file", file.auth?.trustedProxy]]);
  const trustedProxy = resolveTrustedProxy(
    { mode, token, identityScopes, trustedProxy: trustedProxyFile, trustedProxies, bind, customBindHost },
    path,
  );

  const gateway: GatewaySettings = {
    port,
    bind,
    auth: { mode },
    trustedProxies,
    controlUi: {
      allowedOrigins: [
        ...pick(
          "gateway.controlUi.allowedOrigins",
          [["file", file.controlUi?.allowedOrigins]],
          d.allowedOrigins,
        ),
      ],
    },
    handshakeTimeoutMs: pick(
      "gateway.handshakeTimeoutMs",
      [
        ["env", env.handshakeTimeoutMs],
        ["file", file.handshakeTimeoutMs],
      ],
      d.handshakeTimeoutMs,
    ),
    pairing: {
      autoApproveLocal: pick(
        "gateway.pairing.autoApproveLocal",
        [["file", file.pairing?.autoApproveLocal]],
        d.autoApproveLocal,
      ),
      pendingTtlMs: pick(
        "gateway.pairing.pendingTtlMs",
        [["file", file.pairing?.pendingTtlMs]],
        d.pendingTtlMs,
      ),
    },
    limits: {
      maxConnections: pick(
        "gateway.limits.maxConnections",
        [["file", file.limits?.maxConnections]],
        d.maxConnections,
      ),
      maxConnectionsPerIp: pick(
        "gateway.limits.maxConnectionsPerIp",
        [["file", file.limits?.maxConnectionsPerIp]],
        d.maxConnectionsPerIp,
      ),
    },
    tls: {
      enabled: pick("gateway.tls.enabled", [["file", file.tls?.enabled]], d.tlsEnabled),
      autoGenerate: pick("gateway.tls.autoGenerate", [["file", file.tls?.autoGenerate]], d.tlsAutoGenerate),
    },
    sandbox: {
      mode: pick("gateway.sandbox.mode", [["file", file.sandbox?.mode]], d.sandboxMode),
      readOnlyPaths: [...pick("gateway.sandbox.readOnlyPaths", [["file", file.sandbox?.readOnlyPaths]], [])],
    },
  };
  const certPath = pick("gateway.tls.certPath", [["file", file.tls?.certPath]]);
  const keyPath = pick("gateway.tls.keyPath", [["file", file.tls?.keyPath]]);
  if (certPath !== undefined && keyPath !== undefined) {
    gateway.tls.certPath = certPath;
    gateway.tls.keyPath = keyPath;
  }
  if (gateway.tls.enabled && gateway.tls.certPath === undefined && !gateway.tls.autoGenerate) {
    throw invalidValue(
      "gateway.tls.certPath",
      "required when gateway.tls.enabled is true and gateway.tls.autoGenerate is false (or set autoGenerate to true)",
      path,
    );
  }
  const sandboxUser = pick("gateway.sandbox.user", [["file", file.sandbox?.user]]);
  if (sandboxUser !== undefined) gateway.sandbox.user = sandboxUser;
  if (customBindHost !== undefined) gateway.customBindHost = customBindHost;
  if (token !== undefined) gateway.auth.token = token;
  if (password !== undefined) gateway.auth.password = password;
  if (trustedProxy !== undefined) {
    gateway.auth.trustedProxy = trustedProxy;
    gateway.auth.identityScopes = identityScopes ?? {};
  }
  return { gateway, sources };
}

/**
 * The rules of `auth.mode: "trusted-proxy"` that span keys. Whatever the gateway could not enforce
 * stops it, naming the key: no proxy to trust, no source for the user, a loopback opt-in that can
 * never match, a proxy the bind makes unreachable, settings of a mode that is not on.
 */
function resolveTrustedProxy(
  c: {
    mode: AuthMode;
    token: string | undefined;
    identityScopes: Record<string, string[]> | undefined;
    trustedProxy: TrustedProxyFileConfig | undefined;
    trustedProxies: string[];
    bind: BindMode;
    customBindHost: string | undefined;
  },
  path?: string,
): TrustedProxySettings | undefined {
  if (c.mode !== "trusted-proxy") {
    if (c.trustedProxy !== undefined) {
      throw invalidValue(
        "gateway.auth.trustedProxy",
        `only applies when gateway.auth.mode is "trusted-proxy" (it is "${c.mode}"); remove it or set the mode`,
        path,
      );
    }
    if (c.identityScopes !== undefined) {
      throw invalidValue(
        "gateway.auth.identityScopes",
        `only applies when gateway.auth.mode is "trusted-proxy" (it is "${c.mode}")`,
        path,
      );
    }
    return undefined;
  }
  const tp = c.trustedProxy;
  if (tp === undefined) {
    throw invalidValue(
      "gateway.auth.trustedProxy",
      'required when gateway.auth.mode is "trusted-proxy": at least userHeader (or assertion.userClaim) saying who the user is',
      path,
    );
  }
  if (c.trustedProxies.length === 0) {
    throw invalidValue(
      "gateway.trustedProxies",
      'required when gateway.auth.mode is "trusted-proxy": list the address (or CIDR) of the proxy, or nobody could ever be admitted through it',
      path,
    );
  }
  if (c.token !== undefined) {
    throw invalidValue(
      "gateway.auth.token",
      'not used when gateway.auth.mode is "trusted-proxy" (the proxy\'s identity replaces it; internal callers on this host use gateway.auth.password): remove it',
      path,
    );
  }
  if (tp.userHeader === undefined && tp.assertion?.userClaim === undefined) {
    throw invalidValue(
      "gateway.auth.trustedProxy.userHeader",
      "required unless gateway.auth.trustedProxy.assertion.userClaim names the user: nothing would say who is connecting",
      path,
    );
  }
  const allowLoopback = tp.allowLoopback ?? false;
  const loopbackListed = c.trustedProxies.some((r) => LOOPBACK_PROXY.some((ip) => ipInRange(ip, r)));
  if (allowLoopback && !loopbackListed) {
    throw invalidValue(
      "gateway.auth.trustedProxy.allowLoopback",
      "is true but no loopback address (127.0.0.1 or ::1) is in gateway.trustedProxies, so it could never apply",
      path,
    );
  }
  const loopbackOnly =
    c.bind === "loopback" ||
    (c.bind === "custom" && c.customBindHost !== undefined && isLoopbackIp(c.customBindHost));
  if (loopbackOnly && !allowLoopback) {
    throw invalidValue(
      "gateway.auth.trustedProxy.allowLoopback",
      "must be true when the gateway listens on loopback only: its proxy can only be on this host (or bind the gateway where the proxy reaches it)",
      path,
    );
  }
  const auto = tp.deviceAutoApprove ?? {};
  const enabled = auto.enabled ?? false;
  const scopes = auto.scopes ?? [];
  if (enabled && scopes.length === 0) {
    throw invalidValue(
      "gateway.auth.trustedProxy.deviceAutoApprove.scopes",
      "required when deviceAutoApprove.enabled is true: the scopes a device may be approved for without a person",
      path,
    );
  }
  const out: TrustedProxySettings = {
    requiredHeaders: tp.requiredHeaders ?? [],
    allowUsers: tp.allowUsers ?? [],
    allowLoopback,
    deviceAutoApprove: { enabled, scopes },
  };
  if (tp.userHeader !== undefined) out.userHeader = tp.userHeader;
  if (tp.assertion !== undefined) out.assertion = tp.assertion;
  return out;
}

const LOOPBACK_PROXY = ["127.0.0.1", "::1"];
