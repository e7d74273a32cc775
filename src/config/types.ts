/** Shapes of the gateway's configuration, after validation and after every override is applied. */

export type BindMode = "loopback" | "lan" | "custom";
export type AuthMode = "token" | "password" | "none" | "trusted-proxy";
/** Where the gateway's children run: a bubblewrap sandbox, or (explicit opt-out) unsandboxed. */
export type SandboxMode = "bwrap" | "none";

export const BIND_MODES: readonly BindMode[] = ["loopback", "lan", "custom"];
export const AUTH_MODES: readonly AuthMode[] = ["token", "password", "none", "trusted-proxy"];
export const SANDBOX_MODES: readonly SandboxMode[] = ["bwrap", "none"];

export interface AuthSettings {
  mode: AuthMode;
  token?: string;
  password?: string;
  /**
   * `gateway.auth.identityScopes`: the operator scopes a proxy-verified user holds without a device
   * (keys as configured; e-mail addresses match case-insensitively). Trusted-proxy mode only.
   */
  identityScopes?: Readonly<Record<string, readonly string[]>>;
  /** `gateway.auth.trustedProxy`; present exactly when `mode` is "trusted-proxy". */
  trustedProxy?: TrustedProxySettings;
}

/**
 * `gateway.auth.trustedProxy`: an identity-aware proxy (Pomerium, Cloudflare Access, oauth2-proxy,
 * nginx/Caddy forward auth) says who the user is. Header names are lower case.
 */
export interface TrustedProxySettings {
  /** The header carrying the user; absent when `assertion.userClaim` alone names the user. */
  userHeader?: string;
  /** Headers the proxy always sets; a request without any of them did not come through it. */
  requiredHeaders: string[];
  /** Users admitted (e-mail addresses case-insensitively); empty = every authenticated user. */
  allowUsers: string[];
  /** A proxy on this host (loopback peer) is believed; off by default (any local process could forge). */
  allowLoopback: boolean;
  /** The proxy's signed JWT, verified against its JWKS (Gatehouse's addition to OpenClaw's mode). */
  assertion?: TrustedProxyAssertion;
  /** Devices a verified user brings are approved silently up to `scopes` (operator role only). */
  deviceAutoApprove: { enabled: boolean; scopes: string[] };
}

/** `gateway.auth.trustedProxy.assertion`: where the JWT is and what it must say. */
export interface TrustedProxyAssertion {
  header: string;
  /** Exactly one of `jwksUrl` and `jwksFile`. */
  jwksUrl?: string;
  jwksFile?: string;
  issuer: string;
  audience: string[];
  /** The claim naming the user; when set it is the identity and the user header must agree. */
  userClaim?: string;
}

export interface GatewaySettings {
  port: number;
  bind: BindMode;
  /** Only meaningful when `bind` is "custom"; an IP literal. */
  customBindHost?: string;
  auth: AuthSettings;
  /** IPs or CIDR ranges whose forwarded headers are believed. */
  trustedProxies: string[];
  /** Normalized origins (`https://host:port`) or "*". */
  controlUi: { allowedOrigins: string[] };
  handshakeTimeoutMs: number;
  pairing: { autoApproveLocal: boolean; pendingTtlMs: number };
  /** Connection caps: in total and per client address (pre-auth sockets included). */
  limits: { maxConnections: number; maxConnectionsPerIp: number };
  tls: TlsSettings;
  sandbox: SandboxSettings;
}

/**
 * `gateway.sandbox`: how sub-agents and cron runs are confined. `user` is who they run as when
 * the gateway runs as root (default: the system user `gatehouse-sandbox`, created on first use);
 * `readOnlyPaths` are more host paths every child sees read-only.
 */
export interface SandboxSettings {
  mode: SandboxMode;
  user?: string;
  readOnlyPaths: string[];
}

/**
 * `gateway.tls`: serve wss:// with `certPath`/`keyPath`, or (when those are absent and
 * `autoGenerate` is on) a self-signed certificate created in the state dir on first start.
 */
export interface TlsSettings {
  enabled: boolean;
  autoGenerate: boolean;
  /** PEM files; relative paths are resolved against the state dir. Both or neither. */
  certPath?: string;
  keyPath?: string;
}

/** Which layer a value came from; the doctor uses it to explain surprises (e.g. a stale env token). */
export type ConfigSource = "flag" | "env" | "file" | "default";

/** Every leaf key of the file, named as OpenClaw names it. */
export type ConfigKey =
  | "gateway.port"
  | "gateway.bind"
  | "gateway.customBindHost"
  | "gateway.auth.mode"
  | "gateway.auth.token"
  | "gateway.auth.password"
  | "gateway.auth.identityScopes"
  | "gateway.auth.trustedProxy"
  | "gateway.trustedProxies"
  | "gateway.controlUi.allowedOrigins"
  | "gateway.handshakeTimeoutMs"
  | "gateway.pairing.autoApproveLocal"
  | "gateway.pairing.pendingTtlMs"
  | "gateway.limits.maxConnections"
  | "gateway.limits.maxConnectionsPerIp"
  | "gateway.tls.enabled"
  | "gateway.tls.autoGenerate"
  | "gateway.tls.certPath"
  | "gateway.tls.keyPath"
  | "gateway.sandbox.mode"
  | "gateway.sandbox.user"
  | "gateway.sandbox.readOnlyPaths";

export interface ResolvedConfig {
  stateDir: string;
  configPath: string;
  /** False when no config file exists (defaults and overrides only). */
  fileExists: boolean;
  gateway: GatewaySettings;
  sources: Record<ConfigKey, ConfigSource>;
}

/** Values given on the command line. Errors about them name the flag (`--port`, `--auth`, ...). */
export interface ConfigOverrides {
  /** `--port`; 0 asks the OS for a free port (tests). */
  port?: number | string;
  /** `--bind` */
  bind?: string;
  /** `--host`; implies `--bind custom` when no bind is given. */
  host?: string;
  /** `--auth` */
  authMode?: string;
  /** `--token` */
  token?: string;
  /** `--password` */
  password?: string;
}

export const DEFAULT_PORT = 18789;

/** The values that apply when neither file, env nor flags say otherwise. */
export const GATEWAY_DEFAULTS: Readonly<{
  port: number;
  bind: BindMode;
  trustedProxies: readonly string[];
  allowedOrigins: readonly string[];
  handshakeTimeoutMs: number;
  autoApproveLocal: boolean;
  pendingTtlMs: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  tlsEnabled: boolean;
  tlsAutoGenerate: boolean;
  sandboxMode: SandboxMode;
}> = Object.freeze({
  port: DEFAULT_PORT,
  bind: "loopback",
  trustedProxies: [],
  allowedOrigins: [],
  handshakeTimeoutMs: 10_000,
  autoApproveLocal: true,
  pendingTtlMs: 600_000,
  maxConnections: 4096,
  maxConnectionsPerIp: 256,
  tlsEnabled: false,
  tlsAutoGenerate: true,
  sandboxMode: "bwrap",
});
