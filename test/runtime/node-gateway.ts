/**
 * An in-process gateway assembled exactly as `gateway run` assembles it (createGatewayApp), on 127.0.0.1, a free port and a fresh state dir; `restart()` replaces the server by
 * a new one on the same port and store, as a gateway restart does.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GatewayServer } from "../../src/gateway/server.js";
import type { GatewayAuth } from "../../src/gateway/shared-auth.js";
import { loadOrCreateIdentity } from "../../src/identity/file-store.js";
import type { DeviceIdentity } from "../../src/identity/keys.js";
import { createGatewayApp, type GatewayApp, type GatewayAppOptions } from "../../src/runtime/gateway-app.js";
import type { NodeRegistry } from "../../src/runtime/nodes.js";
import { ensureOwner } from "../../src/store/approve.js";
import { openStore, type Store } from "../../src/store/db.js";
import { TEST_TOKEN } from "../helpers/gateway.js";

export { TEST_TOKEN };

export interface NodeTestGateway {
  app: GatewayApp;
  server: GatewayServer;
  nodes: NodeRegistry;
  url: string;
  auth: GatewayAuth;
  store: Store;
  owner: DeviceIdentity;
  stateDir: string;
  /** Stops the server (clients see 1012) and starts a new one on the same port and store. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export type NodeTestGatewayOptions = Omit<Partial<GatewayAppOptions>, "auth" | "store" | "ownerDeviceId">;

export async function startNodeGateway(overrides: NodeTestGatewayOptions = {}): Promise<NodeTestGateway> {
  const auth: GatewayAuth = { mode: "token", token: TEST_TOKEN };
  const stateDir = mkdtempSync(join(tmpdir(), "gatehouse-nodes-"));
  const store = openStore(join(stateDir, "state", "gatehouse.sqlite"));
  const owner = loadOrCreateIdentity(join(stateDir, "identity", "device.json"));
  ensureOwner(store, owner, Date.now());

  const launch = async (port: number) => {
    const app = createGatewayApp({
      hosts: ["127.0.0.1"],
      port,
      store,
      ownerDeviceId: owner.deviceId,
      ...overrides,
      auth: () => auth,
    });
    await app.start();
    return { app, server: app.server, nodes: app.nodes };
  };

  const gw: NodeTestGateway = {
    ...(await launch(0)),
    url: "",
    auth,
    store,
    owner,
    stateDir,
    restart: async () => {
      const port = gw.server.port;
      await gw.app.stop({ reason: "restart", restartExpectedMs: 100, graceMs: 200 });
      Object.assign(gw, await launch(port));
    },
    stop: async () => {
      await gw.app.stop({ graceMs: 200 });
      store.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  gw.url = `ws://127.0.0.1:${gw.server.port}`;
  return gw;
}
