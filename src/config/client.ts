/** What the CLI dials and with which shared secret, so the owner's CLI works with zero flags. */
import { normalizeFingerprint } from "../protocol/setup-code.js";
import { ENV, envValue } from "./env.js";
import { invalidValue } from "./errors.js";
import { readGatewayEndpoint } from "./endpoint.js";
import { loadConfig } from "./load.js";
import {
  holdsGatewayStore,
  readRememberedGateway,
  stateDirCertificateFingerprint,
} from "./remembered-gateway.js";
import type { GatewaySettings } from "./types.js";

export interface ClientTargetOptions {
  /** `--url` */
  url?: string;
  /** `--token` */
  token?: string;
  /** `--password` */
  password?: string;
  /** `--tls-fingerprint` */
  tlsFingerprint?: string;
  /** `--state-dir`, to find the local gateway's config. */
  stateDir?: string;
  /** Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** For tests: the home directory holding the default `~/.gatehouse`. */
  homedir?: string;
}

export interface ClientTarget {
  url: string;
  /**
   * Where the URL came from: `--url`, `GATEHOUSE_GATEWAY_URL`, the gateway this state dir paired
   * with (`gatehouse connect --pair`, on a machine without a gateway), or the local gateway's config.
   */
  urlSource: "flag" | "env" | "remembered" | "config";
  /** A remembered gateway whose plain ws:// the user accepted when pairing. */
  allowInsecure?: boolean;
  token?: string;
  password?: string;
  /** The certificate pin: `--tls-fingerprint`, its environment variable, or the local gateway's own. */
  tlsFingerprint?: string;
}

/**
 * url: `--url` > `GATEHOUSE_GATEWAY_URL` > the local gateway's address. Secrets: flags > env >
 * the local config file, and the file only when the URL is not overridden, so the local gateway's
 * secret is never sent to a URL someone else chose.
 */
export function resolveClientTarget(opts: ClientTargetOptions = {}): ClientTarget {
  const target = resolveUrlAndSecret(opts);
  const env = opts.env ?? process.env;
  const flag = opts.tlsFingerprint || undefined;
  const given = flag ?? envValue(env, ENV.tlsFingerprint);
  if (given !== undefined) {
    const fp = normalizeFingerprint(given);
    if (!fp) {
      throw invalidValue(
        flag !== undefined ? "--tls-fingerprint" : ENV.tlsFingerprint,
        "must be a SHA-256 certificate fingerprint: 64 hex digits, colons allowed",
      );
    }
    return { ...target, tlsFingerprint: fp };
  }
  return target;
}

function resolveUrlAndSecret(opts: ClientTargetOptions): ClientTarget {
  const env = opts.env ?? process.env;
  const token = opts.token || envValue(env, ENV.token);
  const password = opts.password || envValue(env, ENV.password);
  const explicit: { token?: string; password?: string } = {};
  if (token) explicit.token = token;
  if (password) explicit.password = password;

  if (opts.url) return { url: checkWsUrl(opts.url, "--url"), urlSource: "flag", ...explicit };
  const envUrl = envValue(env, ENV.url);
  if (envUrl !== undefined) return { url: checkWsUrl(envUrl, ENV.url), urlSource: "env", ...explicit };

  const { gateway, stateDir } = loadConfig({ stateDir: opts.stateDir, env, homedir: opts.homedir });
  // A machine without a gateway of its own dials the one it paired with; the local config's
  // secret never goes there.
  if (!holdsGatewayStore(stateDir) && readGatewayEndpoint(stateDir) === null) {
    const remembered = readRememberedGateway(stateDir);
    if (remembered) {
      return {
        url: remembered.url,
        urlSource: "remembered",
        ...explicit,
        ...(remembered.allowInsecure ? { allowInsecure: true } : {}),
      };
    }
  }
  // A running gateway may listen elsewhere than the file says (started with --port/--host), and
  // records the certificate it serves: the state dir is the owner's, so its pin is trusted. In a
  // container that shares the state dir but not the process table, the record is unreadable as
  // alive; the certificate file in the state dir is the same proof.
  const endpoint = readGatewayEndpoint(stateDir);
  const url = endpoint?.url ?? localUrl(gateway);
  const fingerprint = endpoint?.tlsFingerprint ?? stateDirCertificateFingerprint(stateDir, gateway);
  const pin = fingerprint ? { tlsFingerprint: fingerprint } : {};
  if (token || password) return { url, urlSource: "config", ...explicit, ...pin };
  const { mode, token: fileToken, password: filePassword } = gateway.auth;
  if (mode === "token" && fileToken !== undefined) {
    return { url, urlSource: "config", token: fileToken, ...pin };
  }
  // Behind a trusted proxy the password is how internal callers on this host prove themselves.
  if ((mode === "password" || mode === "trusted-proxy") && filePassword !== undefined) {
    return { url, urlSource: "config", password: filePassword, ...pin };
  }
  return { url, urlSource: "config", ...pin };
}

// lan listens on 0.0.0.0, which includes loopback; a custom host must be dialled as itself.
function localUrl(gateway: GatewaySettings): string {
  const host = gateway.bind === "custom" && gateway.customBindHost ? gateway.customBindHost : "127.0.0.1";
  const scheme = gateway.tls.enabled ? "wss" : "ws";
  return `${scheme}://${host.includes(":") ? `[${host}]` : host}:${gateway.port}`;
}

function checkWsUrl(value: string, key: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url && (url.protocol === "ws:" || url.protocol === "wss:") && url.hostname !== "") return value;
  // Only scheme, host and path are echoed: user info or a query may carry a secret.
  const shown =
    url && /^(https?|wss?):$/.test(url.protocol) ? `${url.protocol}//${url.host}${url.pathname}` : "";
  const got = shown ? ` (got ${shown})` : "";
  throw invalidValue(key, `must be a ws:// or wss:// URL such as ws://127.0.0.1:18789${got}`);
}
