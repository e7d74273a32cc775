/**
 * A whole gateway: the server with the core, device, session, cron and node methods, the runtime
 * (runtime tokens, sub-agents, cron) and the node registry, started and stopped in the right order.
 * `gateway run` and the tests build their gateway here, so both run the same assembly.
 */
import type { GatewayServerOptions, StopOptions } from "../gateway/server.js";
import { createGatewayServer, type GatewayServer } from "../gateway/server.js";
import { auditMethods } from "../methods/audit.js";
import { coreMethods } from "../methods/index.js";
import { createNodeMethods } from "../methods/nodes.js";
import { registerCustomMethods, type CustomMethodEntries } from "./custom-methods.js";
import { createStatusMethod } from "../methods/status.js";
import { createRuntime, type Runtime, type RuntimeOptions } from "./index.js";
import { attachNodeRegistry, NodeRegistry } from "./nodes.js";

export type GatewayAppOptions = Omit<
  GatewayServerOptions,
  "methods" | "runtimeTokens" | "onAuthorityRevoked" | "customMethods"
> & {
  /** Runtime tuning (session limits, inherited env) for tests and embedding. */
  runtime?: Partial<Omit<RuntimeOptions, "store" | "gatewayUrl" | "gatewayTlsFingerprint" | "logger">>;
  /** An embedder's own methods; refused (METHOD_REFUSED) if one would shadow a built-in. */
  customMethods?: CustomMethodEntries;
};

export interface GatewayApp {
  server: GatewayServer;
  runtime: Runtime;
  nodes: NodeRegistry;
  /** Listens, then starts cron and marks sessions a previous run left behind. */
  start(): Promise<void>;
  /** Kills running sessions first (they would lose the gateway anyway), then stops the server. */
  stop(options?: StopOptions): Promise<void>;
}

/** Assembles a gateway over an open store. */
export function createGatewayApp(options: GatewayAppOptions): GatewayApp {
  const { runtime: runtimeOptions, customMethods, ...serverOptions } = options;
  const runtime = createRuntime({
    store: options.store,
    // Read at spawn time only, when `server` exists and listens.
    gatewayUrl: () => server.localUrl(),
    gatewayTlsFingerprint: () => options.tls?.fingerprint ?? null,
    logger: options.logger,
    secretValues: () => {
      const a = options.auth();
      return [a.token, a.password];
    },
    // Read when a job ends, when `server` exists.
    closeJobConnections: (jobId, reason) => server.closeJobSessions(jobId, reason),
    // Sessions start and end when `server` exists: spawns are requests to it.
    announceSession: (event, payload) => server.broadcast(event, payload),
    ...runtimeOptions,
  });
  const nodes = new NodeRegistry((nodeId) => ({
    approved: options.store.nodeSurfaces.get(nodeId)?.commands ?? null,
    requestId: options.store.nodeSurfaces.requestFor(nodeId)?.requestId ?? null,
    label: options.store.devices.get(nodeId)?.label ?? null,
  }));
  const builtins = {
    ...coreMethods,
    ...auditMethods,
    ...runtime.methods,
    ...createNodeMethods(nodes),
    status: createStatusMethod(() => {
      const { mode, state, user, problem } = runtime.sandbox.status();
      return { mode, state, user, problem };
    }),
  };
  const custom = registerCustomMethods(customMethods ?? {}, Object.keys(builtins));
  const server = createGatewayServer({
    ...serverOptions,
    methods: { ...custom.handlers, ...builtins },
    customMethods: custom.requirements,
    runtimeTokens: runtime.runtimeTokens,
    // Revoking or removing a device ends the work resting on it (design principle 7).
    onAuthorityRevoked: (deviceId, reason, disabledJobs) =>
      runtime.revokeAuthority(deviceId, reason, disabledJobs),
  });
  attachNodeRegistry(server, nodes);
  return {
    server,
    runtime,
    nodes,
    async start() {
      await server.start();
      runtime.start();
    },
    async stop(stopOptions) {
      await runtime.stop();
      await server.stop(stopOptions);
    },
  };
}
