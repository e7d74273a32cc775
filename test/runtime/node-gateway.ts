/**
 * An in-process gateway with the node registry and node methods wired in (as the real gateway
 * wires them), on 127.0.0.1, a free port and a fresh state dir; `restart()` replaces the server by
 * a new one on the same port and store, as a gateway restart does.
 */
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
import { createNodeMethods } from "../../src/methods/nodes.js";
import { attachNodeRegistry, NodeRegistry } from "../../src/runtime/nodes.js";
import { ensureOwner } from "../../src/store/approve.js";
import { openStore, type Store } from "../../src/store/db.js";
import { TEST_TOKEN } from "../helpers/gateway.js";

export { TEST_TOKEN };

export interface NodeTestGateway {
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

export type NodeTestGatewayOptions = Omit<
  Partial<GatewayServerOptions>,
  "auth" | "store" | "ownerDeviceId" | "methods"
>;

export async function startNodeGateway(overrides: NodeTestGatewayOptions = {}): Promise<NodeTestGateway> {
  const auth: GatewayAuth = { mode: "token", token: TEST_TOKEN };
  const stateDir = mkdtempSync(join(tmpdir(), "gatehouse-nodes-"));
  const store = openStore(join(stateDir, "state", "gatehouse.sqlite"));
  const owner = loadOrCreateIdentity(join(stateDir, "identity", "device.json"));
  ensureOwner(store, owner, Date.now());

  const launch = async (port: number) => {
    const nodes = new NodeRegistry();
    const server = createGatewayServer({
      hosts: ["127.0.0.1"],
      port,
      methods: { ...coreMethods, ...createNodeMethods(nodes) },
      store,
      ownerDeviceId: owner.deviceId,
      ...overrides,
      auth: () => auth,
    });
    attachNodeRegistry(server, nodes);
    await server.start();
    return { server, nodes };
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
      await gw.server.stop({ reason: "restart", restartExpectedMs: 100, graceMs: 200 });
      Object.assign(gw, await launch(port));
    },
    stop: async () => {
      await gw.server.stop({ graceMs: 200 });
      store.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  gw.url = `ws://127.0.0.1:${gw.server.port}`;
  return gw;
}
