/** Starts an in-process gateway (the full assembly) on 127.0.0.1, a free port and a fresh state dir. */
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { GatewayServer } from "../../src/gateway/server.js";
import type { GatewayAuth } from "../../src/gateway/shared-auth.js";
import { loadOrCreateIdentity } from "../../src/identity/file-store.js";
import { generateIdentity, type DeviceIdentity } from "../../src/identity/keys.js";
import { createGatewayApp, type GatewayApp, type GatewayAppOptions } from "../../src/runtime/gateway-app.js";
import { approveDevice, ensureOwner } from "../../src/store/approve.js";
import { openStore, type Store } from "../../src/store/db.js";
import { tempStateDir } from "./gateway-process.js";

export const TEST_TOKEN = "test-token-0123456789abcdefghijklmnopqrstuv";

export interface TestGateway {
  server: GatewayServer;
  app: GatewayApp;
  url: string;
  /** Mutable: tests rotate the secret by assigning to it. */
  auth: GatewayAuth;
  store: Store;
  owner: DeviceIdentity;
  stateDir: string;
  stop(): Promise<void>;
}

export type TestGatewayOptions = Omit<Partial<GatewayAppOptions>, "auth" | "store" | "ownerDeviceId"> & {
  auth?: GatewayAuth;
};

/** A started gateway with token auth unless `auth` says otherwise; its owner is paired. */
export async function startTestGateway(overrides: TestGatewayOptions = {}): Promise<TestGateway> {
  const auth: GatewayAuth = overrides.auth ?? { mode: "token", token: TEST_TOKEN };
  const { auth: _a, ...rest } = overrides;
  const stateDir = tempStateDir("gatehouse-gw-");
  const store = openStore(join(stateDir, "state", "gatehouse.sqlite"));
  const owner = loadOrCreateIdentity(join(stateDir, "identity", "device.json"));
  ensureOwner(store, owner, Date.now());
  const app = createGatewayApp({
    hosts: ["127.0.0.1"],
    port: 0,
    store,
    ownerDeviceId: owner.deviceId,
    ...rest,
    auth: () => auth,
  });
  await app.start();
  const server = app.server;
  return {
    server,
    app,
    url: `ws://127.0.0.1:${server.port}`,
    auth,
    store,
    owner,
    stateDir,
    stop: async () => {
      await app.stop({ graceMs: 200 });
      store.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * A new device approved for operator with `scopes` (platform linux pinned) and its device token,
 * which carries `tokenScopes` (default: the same scopes); `revoked` revokes it at once.
 */
export function pairDevice(
  gw: Pick<TestGateway, "store">,
  scopes: string[],
  o: { revoked?: boolean; tokenScopes?: string[] } = {},
): { identity: DeviceIdentity; token: string } {
  const identity = generateIdentity();
  const now = Date.now();
  approveDevice(gw.store, {
    deviceId: identity.deviceId,
    publicKey: identity.publicKey,
    roles: ["operator"],
    scopes,
    platform: "linux",
    approvedVia: "approved",
    nowMs: now,
  });
  const token = gw.store.tokens.issue(identity.deviceId, "operator", o.tokenScopes ?? scopes, now);
  if (o.revoked) gw.store.tokens.revoke(identity.deviceId, "operator", now);
  return { identity, token };
}
