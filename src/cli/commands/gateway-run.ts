/** `gatehouse gateway run`: the gateway in the foreground, one log line per connection decision. */
import { join } from "node:path";
import {
  assertSafeBind,
  bindHosts,
  isExposedBind,
  createAuthResolver,
  ensureGatewayToken,
  loadConfig,
  removeGatewayEndpoint,
  statePaths,
  writeGatewayEndpoint,
} from "../../config/index.js";
import { loadOrCreateIdentity } from "../../identity/file-store.js";
import { acquireGatewayLock, ensureOwner, openStore } from "../../store/index.js";
import type { ConfigOverrides } from "../../config/types.js";
import { createLogger, type LogFormat } from "../../gateway/log.js";
import { loadOrCreateTls, TlsSetupError, type TlsMaterial } from "../../gateway/tls.js";
import { formatFingerprint } from "../../protocol/setup-code.js";
import { createGatewayApp } from "../../runtime/gateway-app.js";
import { CliError, EXIT } from "../output.js";

export interface GatewayRunOptions {
  stateDir?: string;
  port?: string;
  bind?: string;
  host?: string;
  auth?: string;
  token?: string;
  password?: string;
  logFormat?: string;
}

/** Starts the gateway and resolves when it has stopped after SIGINT/SIGTERM. */
export async function gatewayRun(opts: GatewayRunOptions): Promise<number> {
  const logFormat = parseLogFormat(opts.logFormat);
  const overrides: ConfigOverrides = {
    ...(opts.port !== undefined && { port: opts.port }),
    ...(opts.bind !== undefined && { bind: opts.bind }),
    ...(opts.host !== undefined && { host: opts.host }),
    ...(opts.auth !== undefined && { authMode: opts.auth }),
    ...(opts.token !== undefined && { token: opts.token }),
    ...(opts.password !== undefined && { password: opts.password }),
  };
  const loaded = loadConfig({ stateDir: opts.stateDir, overrides });
  assertSafeBind(loaded.gateway);
  const { config, generated, savedTo } = ensureGatewayToken(loaded);
  const logger = createLogger(logFormat);
  if (generated) {
    logger.log("info", "generated a gateway token", {
      savedIn: savedTo,
      hint: "clients on this host read it from there",
    });
  }
  // One gateway per state dir: the lock comes first so a second one says who holds it.
  const lock = acquireGatewayLock(config.stateDir);
  const paths = statePaths(config.stateDir);
  let store;
  try {
    store = openStore(join(paths.stateDbDir, "gatehouse.sqlite"));
  } catch (err) {
    lock.release();
    throw err;
  }
  let tls: TlsMaterial | null = null;
  if (config.gateway.tls.enabled) {
    try {
      tls = await loadOrCreateTls({
        stateDir: config.stateDir,
        certPath: config.gateway.tls.certPath,
        keyPath: config.gateway.tls.keyPath,
        autoGenerate: config.gateway.tls.autoGenerate,
        hosts: bindHosts(config.gateway),
      });
    } catch (err) {
      store.close();
      lock.release();
      if (err instanceof TlsSetupError) throw new CliError("TLS_SETUP_FAILED", err.message, EXIT.usage);
      throw err;
    }
    logger.log("info", tls.generated ? "generated a self-signed TLS certificate" : "TLS certificate loaded", {
      cert: tls.certPath,
      fingerprint: tls.fingerprint,
      sha256: formatFingerprint(tls.fingerprint),
      validTo: tls.validTo,
      hint: "clients pin it: --tls-fingerprint <fingerprint>, or a setup code (gatehouse pair code)",
    });
  } else if (isExposedBind(config.gateway)) {
    logger.log("warn", "listening beyond loopback without TLS", {
      bind: config.gateway.bind,
      hint: "the shared token and device tokens cross the network in the clear; set gateway.tls.enabled to true",
    });
  }
  const owner = loadOrCreateIdentity(join(paths.identityDir, "device.json"));
  if (ensureOwner(store, owner, Date.now()).created) {
    logger.log("info", "owner device paired", { device: owner.deviceId, roles: ["operator", "node"] });
  }
  const auth = createAuthResolver({
    config,
    overrides,
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
  });
  const cleanup = () => {
    removeGatewayEndpoint(config.stateDir, process.pid);
    store.close();
    lock.release();
  };
  // Signals are watched from before listening: a SIGTERM that lands mid-start still stops cleanly.
  let signalled: string | null = null;
  let onSignal: (signal: string) => void = (signal) => {
    signalled = signal;
  };
  const onInt = () => onSignal("SIGINT");
  const onTerm = () => onSignal("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    await app.start();
  } catch (err) {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    cleanup();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") {
      throw new CliError(
        "PORT_IN_USE",
        `port ${config.gateway.port} is already in use`,
        EXIT.failed,
        "another gateway may be running (check with: gatehouse health), or pass --port",
      );
    }
    if (code === "EADDRNOTAVAIL" || code === "EACCES") {
      throw new CliError("BIND_FAILED", `cannot listen on ${bindHosts(config.gateway).join(", ")}: ${code}`);
    }
    throw err;
  }
  writeGatewayEndpoint(config.stateDir, {
    pid: process.pid,
    url: app.server.localUrl(),
    ...(tls ? { tlsFingerprint: tls.fingerprint } : {}),
  });
  logger.log("info", "gateway ready", {
    stateDir: config.stateDir,
    auth: config.gateway.auth.mode,
    ...(tls ? { tlsFingerprint: tls.fingerprint } : {}),
    tokenFile:
      config.gateway.auth.mode === "token" && config.sources["gateway.auth.token"] === "file"
        ? config.configPath
        : undefined,
  });
  return new Promise((resolve) => {
    onSignal = (signal: string) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      void app.stop({ reason: `gateway stopping (${signal})` }).then(() => {
        cleanup();
        resolve(EXIT.ok);
      });
    };
    if (signalled) onSignal(signalled);
  });
}

function parseLogFormat(value: string | undefined): LogFormat {
  if (value === undefined || value === "text" || value === "json") return value ?? "text";
  throw new CliError(
    "INVALID_FLAG",
    `--log-format: must be text or json (got ${JSON.stringify(value)})`,
    EXIT.usage,
  );
}
