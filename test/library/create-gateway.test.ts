/**
 * createGateway as a library user sees it: custom methods checked by the gateway's own policy,
 * refused registrations, typed events, config over gatehouse.json, a clean and idempotent close,
 * and the same gateway the CLI talks to.
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  GatewayClient,
  GatewayClientError,
  FileDeviceTokenStore,
  loadDeviceIdentity,
  loadOrCreateDeviceIdentity,
} from "../../src/client/index.js";
import {
  createGateway,
  GatewayStartError,
  MethodError,
  type CustomMethod,
  type GatewayEventName,
  type GatewayEvents,
  type Gateway,
} from "../../src/index.js";
import { runCli } from "../helpers/gateway-process.js";
import { generateIdentity } from "../../src/identity/keys.js";
import { openPeer, sendConnect } from "../helpers/raw-client.js";

const TOKEN = "library-test-token-0123456789abcdef";
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix = "gatehouse-lib-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

const echo: CustomMethod = {
  role: "operator",
  scope: "operator.write",
  handler: (params, caller) => ({ echo: params, deviceId: caller.deviceId, scopes: caller.scopes }),
};

/** A device (its own identity dir) that connects with the shared token asking for `scopes`. */
function deviceClient(gateway: Gateway, scopes: string[], identityDir = tempDir("gatehouse-dev-")) {
  return new GatewayClient({
    url: gateway.url,
    identity: loadOrCreateDeviceIdentity(identityDir),
    deviceTokenStore: new FileDeviceTokenStore(join(identityDir, "device-auth.json")),
    auth: { token: TOKEN },
    scopes,
  });
}

/** The owner client: signs with `<stateDir>/identity`, as the CLI on the gateway host does. */
function ownerClient(gateway: Gateway, scopes: string[]) {
  return new GatewayClient({
    url: gateway.url,
    identity: loadDeviceIdentity(join(gateway.stateDir, "identity")),
    scopes,
  });
}

async function failure(p: Promise<unknown>): Promise<GatewayClientError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof GatewayClientError, `expected a GatewayClientError, got ${String(err)}`);
  return err;
}

async function startFailure(p: Promise<unknown>): Promise<GatewayStartError> {
  const err = await p.then(
    (g) => {
      void (g as Gateway).close();
      return null;
    },
    (e: unknown) => e,
  );
  assert.ok(err instanceof GatewayStartError, `expected a GatewayStartError, got ${String(err)}`);
  return err;
}

/** Resolves with the next payload of `event` that satisfies `match`. */
function nextEvent<E extends GatewayEventName>(
  gateway: Gateway,
  event: E,
  match: (p: GatewayEvents[E]) => boolean = () => true,
): Promise<GatewayEvents[E]> {
  return new Promise((resolve) => {
    const listener = (p: GatewayEvents[E]) => {
      if (!match(p)) return;
      gateway.off(event, listener);
      resolve(p);
    };
    gateway.on(event, listener);
  });
}

describe("createGateway: custom methods", () => {
  it("runs a custom method for a caller holding its scope and refuses one without, like a built-in", async () => {
    const gateway = await createGateway({
      stateDir: tempDir(),
      config: { gateway: { port: 0, auth: { token: TOKEN } } },
      methods: {
        "myapp.echo": echo,
        "myapp.node-only": { role: "node", scope: null, handler: () => "node" },
        "myapp.refuse": {
          role: "operator",
          scope: null,
          handler: () => {
            throw new MethodError("INVALID_PARAMS", "count: must be a positive integer", { field: "count" });
          },
        },
        "myapp.crash": {
          role: "operator",
          scope: null,
          handler: () => {
            throw new Error("database password is hunter2");
          },
        },
      },
    });
    const writerDir = tempDir("gatehouse-dev-");
    const writer = deviceClient(gateway, ["operator.write"], writerDir);
    const reader = deviceClient(gateway, ["operator.read"]);
    try {
      const hello = await writer.connect();
      assert.deepEqual(
        hello.auth.scopes,
        ["operator.write"],
        "paired silently on loopback with what it asked",
      );
      assert.ok(hello.features.methods.includes("myapp.echo"), "custom methods are advertised in hello-ok");
      assert.ok(hello.features.methods.includes("health"), "beside the built-in ones");
      const ok = await writer.request<{ echo: unknown; deviceId: string; scopes: string[] }>("myapp.echo", {
        n: 1,
      });
      assert.deepEqual(ok.echo, { n: 1 });
      assert.equal(ok.deviceId, loadDeviceIdentity(writerDir).deviceId, "the handler is told who called");
      assert.deepEqual(ok.scopes, ["operator.write"]);

      await reader.connect();
      const refused = await failure(reader.request("myapp.echo", { n: 2 }));
      assert.equal(refused.wireCode, "FORBIDDEN");
      assert.equal(refused.detailCode, "MISSING_SCOPE");
      assert.equal(refused.message, "missing scope: operator.write");
      assert.equal(reader.state, "open", "a refused call keeps the session");
      // The same answer a built-in gives for a missing scope.
      const builtin = await failure(reader.request("device.pair.list"));
      assert.equal(builtin.detailCode, refused.detailCode);

      const wrongRole = await failure(writer.request("myapp.node-only"));
      assert.equal(wrongRole.detailCode, "ROLE_NOT_ALLOWED");
      assert.equal(wrongRole.message, "method myapp.node-only requires role node");

      const invalid = await failure(reader.request("myapp.refuse"));
      assert.equal(invalid.wireCode, "INVALID_REQUEST");
      assert.equal(invalid.detailCode, "INVALID_PARAMS");
      assert.equal(invalid.message, "count: must be a positive integer");
      assert.equal(invalid.details?.field, "count");

      const crashed = await failure(reader.request("myapp.crash"));
      assert.equal(crashed.detailCode, "INTERNAL_ERROR");
      assert.doesNotMatch(JSON.stringify(crashed.details) + crashed.message, /hunter2/);
    } finally {
      await writer.close();
      await reader.close();
      await gateway.close();
    }
  });

  it("operator.admin covers a custom method's operator scope, as the lattice says", async () => {
    const gateway = await createGateway({
      stateDir: tempDir(),
      config: { gateway: { port: 0 } },
      methods: { "myapp.echo": echo },
    });
    const owner = ownerClient(gateway, ["operator.admin"]);
    try {
      await owner.connect();
      const res = await owner.request<{ deviceId: string }>("myapp.echo", {});
      assert.equal(res.deviceId, gateway.ownerDeviceId);
    } finally {
      await owner.close();
      await gateway.close();
    }
  });

  const refusals: [string, CustomMethod, RegExp][] = [
    ["health", echo, /a built-in method has this name/],
    ["device.pair.approve", echo, /a built-in method has this name/],
    ["connect", echo, /a built-in method has this name/],
    ["sessions.mine", echo, /namespace of built-in methods/],
    ["device", echo, /namespace of built-in methods/],
    ["my app", echo, /method names are dot-separated words/],
    [
      "myapp.wide",
      { ...echo, scope: "admin" as CustomMethod["scope"] },
      /scope must be null or one of operator\.admin/,
    ],
    ["myapp.who", { ...echo, role: "owner" as CustomMethod["role"] }, /role must be "operator" or "node"/],
    [
      "myapp.node",
      { role: "node", scope: "operator.read", handler: () => 1 },
      /node method's scope must be null/,
    ],
  ];
  for (const [name, method, message] of refusals) {
    it(`refuses ${JSON.stringify(name)} at registration with METHOD_REFUSED and holds nothing afterwards`, async () => {
      const stateDir = tempDir();
      const err = await startFailure(
        createGateway({ stateDir, config: { gateway: { port: 0 } }, methods: { [name]: method } }),
      );
      assert.equal(err.code, "METHOD_REFUSED");
      assert.equal(err.subject, name);
      assert.match(
        err.message,
        new RegExp(`custom method ${JSON.stringify(name).replace(/[.]/g, "\\.")} refused`),
      );
      assert.match(err.message, message);
      // The lock and the store were released: the state dir starts a gateway at once.
      const gateway = await createGateway({ stateDir, config: { gateway: { port: 0 } } });
      await gateway.close();
    });
  }
});

describe("createGateway: events", () => {
  it("reports session open/close and a pairing request and its approval with the requestId the device was told", async () => {
    const gateway = await createGateway({
      stateDir: tempDir(),
      config: { gateway: { port: 0, auth: { token: TOKEN }, pairing: { autoApproveLocal: false } } },
    });
    const identityDir = tempDir("gatehouse-dev-");
    const device = deviceClient(gateway, ["operator.read"], identityDir);
    const owner = ownerClient(gateway, ["operator.pairing", "operator.read"]);
    try {
      const requested = nextEvent(gateway, "pairing.requested");
      const refused = await failure(device.connect());
      assert.equal(refused.detailCode, "PAIRING_REQUIRED");
      const request = await requested;
      assert.equal(request.requestId, refused.requestId);
      assert.equal(request.deviceId, loadDeviceIdentity(identityDir).deviceId);
      assert.deepEqual(request.scopes, ["operator.read"]);
      assert.equal(request.reason, "not-paired");
      assert.equal(request.browserOrigin, null, "a CLI asks from no browser page");

      const ownerOpen = nextEvent(gateway, "session.open", (s) => s.deviceId === gateway.ownerDeviceId);
      await owner.connect();
      assert.deepEqual((await ownerOpen).scopes, ["operator.pairing", "operator.read"]);

      const resolved = nextEvent(gateway, "pairing.resolved");
      await owner.request("device.pair.approve", { requestId: request.requestId });
      assert.deepEqual(
        { ...(await resolved), ts: 0 },
        { requestId: request.requestId, deviceId: request.deviceId, decision: "approved", ts: 0 },
      );

      const again = deviceClient(gateway, ["operator.read"], identityDir);
      const opened = nextEvent(gateway, "session.open", (s) => s.deviceId === request.deviceId);
      await again.connect();
      const session = await opened;
      assert.equal(session.role, "operator");
      assert.equal(session.clientId, "cli");
      const closed = nextEvent(gateway, "session.close", (s) => s.connId === session.connId);
      await again.close();
      assert.equal((await closed).deviceId, request.deviceId);
    } finally {
      await device.close();
      await owner.close();
      await gateway.close();
    }
  });
});

describe("createGateway: state dir, config and close", () => {
  it("lays config over gatehouse.json without writing it: the file's token admits, the given port is used", async () => {
    const stateDir = tempDir();
    const file = JSON.stringify({ gateway: { port: 1, auth: { mode: "token", token: TOKEN } } });
    writeFileSync(join(stateDir, "gatehouse.json"), file);
    const gateway = await createGateway({ stateDir, config: { gateway: { port: 0 } } });
    const client = new GatewayClient({
      url: gateway.url,
      auth: { token: TOKEN },
      client: { id: "gateway-client", mode: "backend" },
      scopes: ["operator.read"],
    });
    try {
      assert.notEqual(gateway.port, 1);
      assert.equal(gateway.url, `ws://127.0.0.1:${gateway.port}`);
      await client.connect();
      assert.equal((await client.request<{ ok: boolean }>("health")).ok, true);
      assert.equal(readFileSync(join(stateDir, "gatehouse.json"), "utf8"), file);
    } finally {
      await client.close();
      await gateway.close();
    }
  });

  it("refuses bad config naming the key, and a missing state dir with a TypeError", async () => {
    const err = await startFailure(
      createGateway({ stateDir: tempDir(), config: { gateway: { bind: "everywhere" as "lan" } } }),
    );
    assert.equal(err.code, "CONFIG_INVALID");
    assert.equal(err.subject, "gateway.bind");
    assert.match(err.message, /^gateway\.bind: .* in createGateway\(\{ config \}\)$/);
    await assert.rejects(createGateway({} as { stateDir: string }), TypeError);
  });

  it("holds its state dir while running: a second gateway on it is refused naming the holder", async () => {
    const stateDir = tempDir();
    const gateway = await createGateway({ stateDir, config: { gateway: { port: 0 } } });
    try {
      const err = await startFailure(createGateway({ stateDir, config: { gateway: { port: 0 } } }));
      assert.equal(err.code, "STORE_LOCKED");
      assert.match(err.message, new RegExp(String(process.pid)));
    } finally {
      await gateway.close();
    }
  });

  it("refuses a port in use with PORT_IN_USE naming it, and leaves the state dir free", async () => {
    const stateDir = tempDir();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const port = (squatter.address() as AddressInfo).port;
    try {
      const err = await startFailure(createGateway({ stateDir, config: { gateway: { port } } }));
      assert.equal(err.code, "PORT_IN_USE");
      assert.equal(err.message, `port ${port} is already in use`);
      assert.equal(existsSync(join(stateDir, "state", "gateway-endpoint.json")), false);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    const gateway = await createGateway({ stateDir, config: { gateway: { port: 0 } } });
    await gateway.close();
  });

  it("close is idempotent and frees the lock, the port and the endpoint; a second gateway keeps the pairings", async () => {
    const stateDir = tempDir();
    const identityDir = tempDir("gatehouse-dev-");
    const first = await createGateway({ stateDir, config: { gateway: { port: 0, auth: { token: TOKEN } } } });
    const port = first.port;
    const endpoint = join(stateDir, "state", "gateway-endpoint.json");
    assert.ok(existsSync(endpoint), "the endpoint record tells local CLIs where it listens");
    const device = deviceClient(first, ["operator.read"], identityDir);
    await device.connect();
    await device.close();
    const closing = first.close();
    assert.equal(first.closed, true);
    assert.equal(first.close(), closing, "a second close returns the first one's promise");
    await closing;
    assert.equal(existsSync(endpoint), false);

    // Same state dir, same port: both were released.
    const second = await createGateway({ stateDir, config: { gateway: { port } } });
    const back = new GatewayClient({
      url: second.url,
      identity: loadDeviceIdentity(identityDir),
      deviceTokenStore: new FileDeviceTokenStore(join(identityDir, "device-auth.json")),
      scopes: ["operator.read"],
    });
    try {
      assert.equal(second.port, port);
      assert.equal(second.ownerDeviceId, first.ownerDeviceId);
      const hello = await back.connect();
      assert.equal(hello.auth.method, "device-token", "the device is still paired, no shared token needed");
    } finally {
      await back.close();
      await second.close();
    }
  });

  it("is the gateway the CLI talks to: gatehouse health --state-dir finds it and signs with its owner key", async () => {
    const stateDir = tempDir();
    const gateway = await createGateway({ stateDir, config: { gateway: { port: 0 } } });
    try {
      const res = await runCli(["health", "--state-dir", stateDir, "--json"], {
        HOME: tempDir(),
        GATEHOUSE_GATEWAY_URL: "",
        GATEHOUSE_STATE_DIR: "",
        GATEHOUSE_GATEWAY_TOKEN: "",
      });
      assert.equal(res.code, 0, res.stderr);
      assert.equal((JSON.parse(res.stdout) as { ok: boolean }).ok, true);
    } finally {
      await gateway.close();
    }
  });

  it("lets the process exit by itself after close (no timer, socket or lock left behind)", async () => {
    const dir = tempDir();
    const script = join(dir, "embed.mjs");
    const lib = new URL("../../src/index.js", import.meta.url).href;
    const client = new URL("../../src/client/index.js", import.meta.url).href;
    writeFileSync(
      script,
      `import { createGateway } from ${JSON.stringify(lib)};
import { GatewayClient } from ${JSON.stringify(client)};
const gateway = await createGateway({
  stateDir: ${JSON.stringify(join(dir, "state"))},
  config: { gateway: { port: 0, auth: { token: "t0ken-for-exit-test" } } },
  methods: { "myapp.ping": { role: "operator", scope: null, handler: () => "pong" } },
});
gateway.on("session.open", () => {});
const c = new GatewayClient({ url: gateway.url, auth: { token: "t0ken-for-exit-test" }, client: { id: "gateway-client", mode: "backend" } });
await c.connect();
console.log(await c.request("myapp.ping"));
await c.close();
await gateway.close();
console.log("closed");
`,
    );
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let errText = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (errText += c.toString()));
    const hang = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
    clearTimeout(hang);
    assert.equal(code, 0, `the process did not exit by itself after close (killed) or failed: ${errText}`);
    assert.equal(out, "pong\nclosed\n");
  });

  it("a pairing request made by a browser page names that page's Origin (issue 14 item 6)", async () => {
    const gateway = await createGateway({
      stateDir: tempDir(),
      config: {
        gateway: {
          port: 0,
          auth: { token: TOKEN },
          controlUi: { allowedOrigins: ["https://tools.example"] },
        },
      },
    });
    try {
      const requested = nextEvent(gateway, "pairing.requested");
      const page = await openPeer(gateway.url, { Origin: "https://tools.example" });
      const res = await sendConnect(page, {
        identity: generateIdentity(),
        auth: { token: TOKEN },
        clientId: "openclaw-control-ui",
        mode: "webchat",
        scopes: ["operator.read"],
      });
      page.ws.close();
      assert.equal(res.error?.details?.code, "PAIRING_REQUIRED");
      const request = await requested;
      assert.equal(request.requestId, res.error?.details?.requestId);
      assert.equal(request.browserOrigin, "https://tools.example");
      assert.equal(Object.isFrozen(request), true);
    } finally {
      await gateway.close();
    }
  });
});
