/** Starts an in-process gateway on 127.0.0.1, a free port and a fresh state dir for a test. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createGatewayServer,
  type GatewayServer,
  type GatewayServerOptions,
} from "../../src/gateway/server.js";
import type { GatewayAuth } from "../../src/gateway/shared-auth.js";
import { loadOrCreateIdentity } from "../../src/identity/file-store.js";
import type { DeviceIdentity } from "../../src/identity/keys.js";
import { coreMethods } from "../../src/methods/index.js";
import { ensureOwner } from "../../src/store/approve.js";
import { openStore, type Store } from "../../src/store/db.js";

export const TEST_TOKEN = "test-token-0123456789abcdefghijklmnopqrstuv";

export interface TestGateway {
  server: GatewayServer;
  url: string;
  /** Mutable: tests rotate the secret by assigning to it. */
  auth: GatewayAuth;
  store: Store;
  owner: DeviceIdentity;
  stateDir: string;
  stop(): Promise<void>;
}

export type TestGatewayOptions = Omit<Partial<GatewayServerOptions>, "auth" | "store" | "ownerDeviceId"> & {
  auth?: GatewayAuth;
};

/** A started gateway with token auth unless `auth` says otherwise; its owner is paired. */
export async function startTestGateway(overrides: TestGatewayOptions = {}): Promise<TestGateway> {
  const auth: GatewayAuth = overrides.auth ?? { mode: "token", token: TEST_TOKEN };
  const { auth: _a, ...rest } = overrides;
  const stateDir = mkdtempSync(join(tmpdir(), "gatehouse-gw-"));
  const store = openStore(join(stateDir, "state", "gatehouse.sqlite"));
  const owner = loadOrCreateIdentity(join(stateDir, "identity", "device.json"));
  ensureOwner(store, owner, Date.now());
  const server = createGatewayServer({
    hosts: ["127.0.0.1"],
    port: 0,
    methods: coreMethods,
    store,
    ownerDeviceId: owner.deviceId,
    ...rest,
    auth: () => auth,
  });
  await server.start();
  return {
    server,
    url: `ws://127.0.0.1:${server.port}`,
    auth,
    store,
    owner,
    stateDir,
    stop: async () => {
      await server.stop({ graceMs: 200 });
      store.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
