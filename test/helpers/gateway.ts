/** Starts an in-process gateway on 127.0.0.1 and a free port for a test. */
import {
  createGatewayServer,
  type GatewayServer,
  type GatewayServerOptions,
} from "../../src/gateway/server.js";
import type { GatewayAuth } from "../../src/gateway/shared-auth.js";
import { coreMethods } from "../../src/methods/index.js";

export const TEST_TOKEN = "test-token-0123456789abcdefghijklmnopqrstuv";

export interface TestGateway {
  server: GatewayServer;
  url: string;
  auth: GatewayAuth;
  stop(): Promise<void>;
}

/** A started gateway with token auth unless `auth` says otherwise. */
export async function startTestGateway(
  overrides: Omit<Partial<GatewayServerOptions>, "auth"> & { auth?: GatewayAuth } = {},
) {
  const auth: GatewayAuth = overrides.auth ?? { mode: "token", token: TEST_TOKEN };
  const { auth: _a, ...rest } = overrides;
  const server = createGatewayServer({
    hosts: ["127.0.0.1"],
    port: 0,
    methods: coreMethods,
    ...rest,
    auth: () => auth,
  });
  await server.start();
  const gw: TestGateway = {
    server,
    url: `ws://127.0.0.1:${server.port}`,
    auth,
    stop: () => server.stop({ graceMs: 200 }),
  };
  return gw;
}
