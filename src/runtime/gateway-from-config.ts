/**
 * A gateway started from a state dir and its configuration: config loaded and validated, the
 * token generated on first start, the state-dir lock, the store, TLS, the owner identity, the
 * runtime and the server, started in that order and released in reverse. `gatehouse gateway run`
 * and the library's `createGateway` both start their gateway here, so they run one code path.
 */
import { join } from "node:path";
import {
  assertSafeBind,
  bindHosts,
  createAuthResolver,
  ensureGatewayToken,
  isExposedBind,
  loadConfig,
  removeGatewayEndpoint,
  secretPaths,
  statePaths,
  writeGatewayEndpoint,
  type ConfigOverrides,
  type GatewayFileConfig,
  type ResolvedConfig,
} from "../config/index.js";
import type { GatewayLogger } from "../gateway/log.js";
import type { StopOptions } from "../gateway/server.js";
import { loadOrCreateTls, TlsSetupError, type TlsMaterial } from "../gateway/tls.js";
import { loadOrCreateIdentity } from "../identity/file-store.js";
import { autoApprovesAdmin } from "../policy/scope-findings.js";
import { formatFingerprint } from "../protocol/setup-code.js";
import { acquireGatewayLock, ensureOwner, openStore } from "../store/index.js";
import type { CustomMethodEntries } from "./custom-methods.js";
import { createGatewayApp, type GatewayApp, type GatewayAppOptions } from "./gateway-app.js";
import { GatewayStartError } from "./start-errors.js";

export interface ConfiguredGatewayOptions {
  /** The state dir; when absent, `GATEHOUSE_STATE_DIR` in `env`, else `~/.gatehouse`. */
  stateDir?: string;
  /** Environment variables read for config (`GATEHOUSE_PORT`, ...); default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Command-line flags: they win over env, file and overlay. */
  overrides?: ConfigOverrides;
  /** An embedder's config (validated), laid over gatehouse.json without writing it. */
  overlay?: GatewayFileConfig;
  /** An embedder's own methods. */
  customMethods?: CustomMethodEntries;
  logger: GatewayLogger;
  /** Runtime tuning for tests. */
  runtime?: GatewayAppOptions["runtime"];
  /**
   * The clock every expiry is decided by (pending requests, setup codes, runtime tokens, cron).
   * Only the model tests' own entry point passes one; `gateway run` has no flag, variable or
   * config key that reaches it, so no deployment can stretch a code's or a request's life.
   */
  now?: () => number;
}

/** A started gateway with everything it holds. */
export interface ConfiguredGateway {
  readonly app: GatewayApp;
  readonly config: ResolvedConfig;
  readonly ownerDeviceId: string;
  /** SHA-256 of the certificate when the gateway serves wss://; else null. */
  readonly tlsFingerprint: string | null;
  /**
   * Stops the runtime and the server, removes the endpoint record, closes the store and releases
   * the state-dir lock. Safe to call more than once; every call resolves when the first is done.
   */
  close(options?: StopOptions): Promise<void>;
}

/** Loads the configuration of `stateDir` and starts its gateway; resolves once it listens. */
export async function startConfiguredGateway(opts: ConfiguredGatewayOptions): Promise<ConfiguredGateway> {
  const { logger } = opts;
  const env = opts.env ?? process.env;
  const loaded = loadConfig({
    stateDir: opts.stateDir,
    env,
    overrides: opts.overrides,
    overlay: opts.overlay,
  });
  assertSafeBind(loaded.gateway);
  const autoApprove = loaded.gateway.auth.trustedProxy?.deviceAutoApprove;
  if (autoApprove && autoApprovesAdmin(autoApprove)) {
    logger.log("warn", "DANGER: trusted-proxy auto-approval grants operator.admin", {
      key: "gateway.auth.trustedProxy.deviceAutoApprove.scopes",
      hint: "every device a user the proxy lets in brings is approved as an administrator without a person looking; remove operator.admin unless that is intended",
    });
  }
  const { config, generated, savedTo } = ensureGatewayToken(loaded);
  if (generated) {
    logger.log("info", "generated a gateway token", {
      savedIn: savedTo,
      hint: "clients on this host read it from there",
    });
  }
  // Released in reverse order on any failure below, and by close().
  const held: (() => void)[] = [];
  const releaseAll = () => {
    for (const release of held.splice(0).reverse()) release();
  };
  try {
    // One gateway per state dir: the lock comes first so a second one says who holds it.
    const lock = acquireGatewayLock(config.stateDir);
    held.push(() => lock.release());
    const paths = statePaths(config.stateDir);
    const store = openStore(join(paths.stateDbDir, "gatehouse.sqlite"));
    held.push(() => store.close());
    const tls = config.gateway.tls.enabled ? await loadTls(config, logger) : null;
    if (!tls && isExposedBind(config.gateway)) {
      logger.log("warn", "listening beyond loopback without TLS", {
        bind: config.gateway.bind,
        hint: "the shared token and device tokens cross the network in the clear; turn TLS on: gatehouse config set gateway.tls.enabled true",
      });
    }
    const owner = loadOrCreateIdentity(join(paths.identityDir, "device.json"));
    const now = opts.now ?? Date.now;
    if (ensureOwner(store, owner, now()).created) {
      logger.log("info", "owner device paired", { device: owner.deviceId, roles: ["operator", "node"] });
    }
    const auth = createAuthResolver({
      config,
      env,
      overrides: opts.overrides,
      overlay: opts.overlay,
      onError: (err) =>
        logger.log("error", "config file invalid; keeping the previous secret", { error: err.message }),
    });
    const app = createGatewayApp({
      hosts: bindHosts(config.gateway),
      port: config.gateway.port,
      auth,
      store,
      ownerDeviceId: owner.deviceId,
      autoApproveLocal: config.gateway.pairing.autoApproveLocal,
      pendingLimits: { ttlMs: config.gateway.pairing.pendingTtlMs },
      limits: config.gateway.limits,
      trustedProxies: config.gateway.trustedProxies,
      allowedOrigins: config.gateway.controlUi.allowedOrigins,
      handshakeTimeoutMs: config.gateway.handshakeTimeoutMs,
      ...(tls ? { tls: { cert: tls.cert, key: tls.key, fingerprint: tls.fingerprint } } : {}),
      logger,
      customMethods: opts.customMethods,
      now,
      runtime: {
        now,
        ...opts.runtime,
        // Children never see where this gateway's secrets live (gateway.sandbox.*, SECURITY.md).
        sandbox: {
          ...config.gateway.sandbox,
          secretPaths: [...secretPaths(config), ...(tls ? [tls.certPath, tls.keyPath] : [])],
          ...opts.runtime?.sandbox,
        },
      },
    });
    try {
      await app.start();
    } catch (err) {
      // Cron and sessions never started; the listeners that did are closed by start itself.
      await app.stop().catch(() => {});
      throw listenError(err, config);
    }
    writeGatewayEndpoint(config.stateDir, {
      pid: process.pid,
      url: app.server.localUrl(),
      ...(tls ? { tlsFingerprint: tls.fingerprint } : {}),
    });
    held.push(() => removeGatewayEndpoint(config.stateDir, process.pid));
    logger.log("info", "gateway ready", {
      stateDir: config.stateDir,
      auth: config.gateway.auth.mode,
      ...(tls ? { tlsFingerprint: tls.fingerprint } : {}),
      tokenFile:
        config.gateway.auth.mode === "token" && config.sources["gateway.auth.token"] === "file"
          ? config.configPath
          : undefined,
    });
    let closing: Promise<void> | null = null;
    return {
      app,
      config,
      ownerDeviceId: owner.deviceId,
      tlsFingerprint: tls?.fingerprint ?? null,
      close(stopOptions) {
        closing ??= app.stop(stopOptions).finally(releaseAll);
        return closing;
      },
    };
  } catch (err) {
    releaseAll();
    throw err;
  }
}

async function loadTls(config: ResolvedConfig, logger: GatewayLogger): Promise<TlsMaterial> {
  let tls: TlsMaterial;
  try {
    tls = await loadOrCreateTls({
      stateDir: config.stateDir,
      certPath: config.gateway.tls.certPath,
      keyPath: config.gateway.tls.keyPath,
      autoGenerate: config.gateway.tls.autoGenerate,
      hosts: bindHosts(config.gateway),
    });
  } catch (err) {
    if (err instanceof TlsSetupError) {
      throw new GatewayStartError("TLS_SETUP_FAILED", err.message, { subject: err.path, cause: err });
    }
    throw err;
  }
  logger.log("info", tls.generated ? "generated a self-signed TLS certificate" : "TLS certificate loaded", {
    cert: tls.certPath,
    fingerprint: tls.fingerprint,
    sha256: formatFingerprint(tls.fingerprint),
    validTo: tls.validTo,
    hint: "clients pin it: --tls-fingerprint <fingerprint>, or a setup code (gatehouse pair code)",
  });
  return tls;
}

/** A listen failure in the words of the configuration that caused it. */
function listenError(err: unknown, config: ResolvedConfig): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE") {
    return new GatewayStartError("PORT_IN_USE", `port ${config.gateway.port} is already in use`, {
      subject: String(config.gateway.port),
      cause: err,
    });
  }
  if (code === "EADDRNOTAVAIL" || code === "EACCES") {
    const hosts = bindHosts(config.gateway).join(", ");
    return new GatewayStartError("BIND_FAILED", `cannot listen on ${hosts}: ${code}`, {
      subject: hosts,
      cause: err,
    });
  }
  return err;
}
