/**
 * Every method the gateway advertises in `hello-ok.features.methods`, called with arbitrary and
 * near-valid params from sessions holding no scope, read, write, pairing, admin (owner key) and the
 * node role. Each answer must be a success or a documented error from ERROR_TABLE that keeps the
 * connection open; a caller without the method's role or scope is refused with FORBIDDEN; bad params
 * never end in the generic internal error; the connection stays usable.
 *
 * Commands that would run something are pinned: `sessions.spawn`, `cron.add` and `cron.update` always
 * carry `process.execPath -e ""` (no caller-chosen program or arguments, no NODE_* or LD_* variables),
 * and `node.invoke` only reaches this test's own node socket, which answers without running anything.
 * Cron jobs and sessions are cleaned up after every method.
 */
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { generateIdentity } from "../../src/identity/keys.js";
import { methodRequirement } from "../../src/policy/method-scopes.js";
import { scopeSatisfied } from "../../src/policy/scopes.js";
import { ERROR_TABLE, type GatewayErrorCode } from "../../src/protocol/errors.js";
import { ALL_OPERATOR_SCOPES } from "../../src/protocol/scopes.js";
import { approveDevice } from "../../src/store/approve.js";
import { startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import { connectParams, type ConnectOptions } from "../helpers/raw-client.js";
import { isRec } from "./oracle.js";
import {
  codeOf,
  errorShapeProblems,
  NODE_FAILURE_REASONS,
  openBare,
  recordingLogger,
  request,
  size,
  sleep,
  Tally,
  type BarePeer,
  type WireFrame,
} from "./support.js";

const RUNS = size(200, 5000);
const NODE_COMMAND = "fuzz.echo";

interface Caller {
  name: string;
  role: "operator" | "node";
  scopes: string[];
  peer: BarePeer;
}

let gw: TestGateway;
let logger: ReturnType<typeof recordingLogger>;
const callers: Caller[] = [];
let methods: string[] = [];
let nextId = 0;
const known = { deviceIds: [] as string[], requestIds: [] as string[] };

async function admit(name: string, o: ConnectOptions): Promise<Caller> {
  const peer = await openBare(gw.url);
  peer.ws.send(
    JSON.stringify({
      type: "req",
      id: "hello",
      method: "connect",
      params: connectParams(peer.challenge.nonce, o),
    }),
  );
  const hello = await peer.waitFor((f) => f.type === "res" && f.id === "hello");
  assert.equal(hello?.ok, true, `${name} admitted: ${JSON.stringify(hello)}`);
  const auth = (hello!.payload as { auth: { role: "operator" | "node"; scopes: string[] } }).auth;
  return { name, role: auth.role, scopes: auth.scopes, peer };
}

before(async () => {
  logger = recordingLogger();
  gw = await startTestGateway({ logger, runtime: { sessions: { killGraceMs: 200 } } });
  const shared = { auth: { token: TEST_TOKEN } };
  callers.push(
    await admit("none", { ...shared, scopes: [] }),
    await admit("read", { ...shared, scopes: ["operator.read"] }),
    await admit("write", { ...shared, scopes: ["operator.write"] }),
    await admit("pairing", { ...shared, scopes: ["operator.pairing"] }),
    await admit("admin", { identity: gw.owner, scopes: [...ALL_OPERATOR_SCOPES] }),
    await admit("node", {
      identity: gw.owner,
      role: "node",
      mode: "node",
      clientId: "node-host",
      scopes: [],
      extra: { commands: [NODE_COMMAND] },
    }),
  );
  // The node session: offers one command and answers every invocation without running anything.
  const node = callers.find((c) => c.name === "node")!;
  node.peer.ws.send(JSON.stringify({ type: "req", id: "noop", method: "health" })); // keeps the socket warm
  node.peer.ws.on("message", (data) => {
    const f = JSON.parse(data.toString()) as WireFrame;
    if (f.type !== "event" || f.event !== "node.invoke.request") return;
    const p = f.payload as { invokeId: string; command: string; params?: unknown };
    node.peer.ws.send(
      JSON.stringify({
        type: "req",
        id: `answer-${p.invokeId}`,
        method: "node.invoke.result",
        params: { invokeId: p.invokeId, ok: true, payload: { echoed: p.command } },
      }),
    );
  });
  const admin = callers.find((c) => c.name === "admin")!;
  const hello = await request(admin.peer, "features", "status");
  assert.equal(hello?.ok, true);
  methods = await advertisedMethods();
  await cleanUpAndSeed();
});

after(async () => {
  for (const c of callers) c.peer.ws.close();
  await gw.stop();
});

/** The method list as a client discovers it: hello-ok of a fresh session. */
async function advertisedMethods(): Promise<string[]> {
  const peer = await openBare(gw.url);
  peer.ws.send(
    JSON.stringify({
      type: "req",
      id: "m",
      method: "connect",
      params: connectParams(peer.challenge.nonce, { auth: { token: TEST_TOKEN } }),
    }),
  );
  const hello = await peer.waitFor((f) => f.type === "res" && f.id === "m");
  peer.ws.close();
  return ((hello?.payload as { features: { methods: string[] } }).features.methods ?? []).slice().sort();
}

// ---- params ----

const keyName = fc.oneof(
  fc.constantFrom("id", "deviceId", "requestId", "role", "scopes", "limit", "__proto__", "constructor", ""),
  fc.string({ maxLength: 10 }),
);
const oddString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom("", " ", "\u0000", "../../etc/passwd", "x".repeat(5000), "\ud800", "operator.admin"),
);
const oddNumber = fc.constantFrom(-1, 0, 1, 1.5, 2 ** 31, 2 ** 53, 1e308, -1e308, 1000, 1001);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  oddString,
  oddNumber,
  fc.constantFrom(null, true, false, [], {}),
);
const generic: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  anyValue,
  fc.dictionary(keyName, anyValue, { maxKeys: 4 }),
);

const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 3 });
const pick = <T>(...values: T[]) => fc.constantFrom(...values);

/** Placeholders replaced at call time by an id that exists then (see resolveLive). */
const LIVE_SESSION = "@@live-session";
const LIVE_CRON = "@@live-cron";

/** Valid values per field; `spoil` below makes them invalid in every way. */
const valid = {
  deviceId: () => pick(...known.deviceIds, gw.owner.deviceId),
  /**
   * Rotation and revocation targets leave out the owner device: they close the owner's other
   * sessions of that role, which are this test's admin and node callers (and revoking the owner's
   * role locks the owner key out when autoApproveLocal is off; see the report).
   */
  revokeTarget: () => pick(...known.deviceIds),
  requestId: () => pick(...known.requestIds),
  role: pick("operator", "node"),
  scopes: fc.subarray(["operator.read", "operator.write", "operator.pairing", "operator.admin"], {
    maxLength: 2,
  }),
  label: fc.string({ minLength: 1, maxLength: 20 }),
  limit: fc.integer({ min: 1, max: 1000 }),
  schedule: pick(
    "0 0 1 1 *",
    "30 4 * * 1",
    "*/5 * * * *",
    "@yearly",
    "0 0 31 2 *",
    "61 * * * *",
    "not a schedule",
  ),
  timezone: pick("UTC", "Europe/Berlin", "Mars/Olympus", "+99:00"),
  cwd: pick(tmpdir(), "/", "/nonexistent/dir", "/etc/hostname"),
  env: fc.dictionary(
    pick("FUZZ_A", "FUZZ_B", "LANG", "GATEHOUSE_URL", "MY_TOKEN"),
    fc.oneof(fc.string(), pick(TEST_TOKEN)),
    {
      maxKeys: 2,
    },
  ),
  timeoutMs: pick(50, 2000, 60_000),
  sessionId: pick(LIVE_SESSION),
  cronId: pick(LIVE_CRON),
};

type Spoil = { pick: number; drop: boolean; value: unknown };
const spoilArb = fc.array(fc.record({ pick: fc.nat(), drop: fc.boolean(), value: anyValue }), {
  maxLength: 2,
});

/** A valid params object with up to two fields dropped or replaced by anything. */
function nearValid(
  fields: Record<string, fc.Arbitrary<unknown>>,
  required: string[] = [],
): fc.Arbitrary<unknown> {
  const record = fc.record(
    Object.fromEntries(Object.entries(fields).map(([k, a]) => [k, required.includes(k) ? a : opt(a)])),
  );
  return fc
    .tuple(
      record,
      spoilArb,
      fc.oneof(
        { weight: 6, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.tuple(keyName, anyValue) },
      ),
    )
    .map(([rec, spoils, extra]) => {
      const out: Record<string, unknown> = Object.fromEntries(
        Object.entries(rec).filter(([, v]) => v !== undefined),
      );
      const keys = [...Object.keys(fields)];
      for (const sp of spoils as Spoil[]) {
        const k = keys[sp.pick % keys.length]!;
        if (sp.drop) delete out[k];
        else out[k] = sp.value;
      }
      if (extra)
        Object.defineProperty(out, extra[0], {
          value: extra[1],
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return out;
    });
}

function templates(method: string): fc.Arbitrary<unknown> | null {
  const v = valid;
  switch (method) {
    case "device.pair.approve":
    case "device.pair.reject":
      return nearValid({ requestId: v.requestId() }, ["requestId"]);
    case "device.pair.remove":
      return nearValid({ deviceId: v.deviceId() }, ["deviceId"]);
    case "device.pair.rename":
      return nearValid({ deviceId: v.deviceId(), label: v.label }, ["deviceId", "label"]);
    case "device.token.rotate":
      return nearValid({ deviceId: v.revokeTarget(), role: v.role, scopes: v.scopes }, ["deviceId", "role"]);
    case "device.token.revoke":
      return nearValid({ deviceId: v.revokeTarget(), role: v.role }, ["deviceId", "role"]);
    case "device.pair.setupCode":
      return nearValid({
        profile: pick("operator-limited", "operator-full", "node", "bogus"),
        ttlMs: pick(30_000, 600_000, 29_999),
        url: pick("wss://gw.example:18789", "ws://10.0.0.5:18789", "http://nope"),
      });
    case "audit.list":
      return nearValid({ limit: v.limit, afterId: fc.nat(), deviceId: v.deviceId() });
    case "sessions.spawn":
      return nearValid({ cwd: v.cwd, env: v.env, scopes: v.scopes, timeoutMs: v.timeoutMs, label: v.label });
    case "sessions.list":
      return nearValid({
        status: pick("running", "exited", "killed", "lost"),
        cronJobId: v.cronId,
        limit: v.limit,
      });
    case "sessions.get":
    case "sessions.kill":
      return nearValid({ id: v.sessionId }, ["id"]);
    case "cron.add":
      return nearValid(
        {
          schedule: v.schedule,
          timezone: v.timezone,
          name: v.label,
          cwd: v.cwd,
          scopes: v.scopes,
          missedPolicy: pick("skip", "run-once"),
          timeoutMs: v.timeoutMs,
          enabled: fc.boolean(),
        },
        ["schedule"],
      ).map((p) => (isRec(p) ? { ...p, command: process.execPath } : p));
    case "cron.update":
      return nearValid(
        {
          id: v.cronId,
          schedule: v.schedule,
          timezone: fc.oneof(v.timezone, fc.constant(null)),
          name: fc.oneof(v.label, fc.constant(null)),
          cwd: fc.oneof(v.cwd, fc.constant(null)),
          scopes: v.scopes,
          missedPolicy: pick("skip", "run-once"),
          timeoutMs: fc.oneof(v.timeoutMs, fc.constant(null)),
          enabled: fc.boolean(),
        },
        ["id"],
      );
    case "cron.remove":
    case "cron.run":
      return nearValid({ id: v.cronId }, ["id"]);
    case "node.invoke":
      return nearValid(
        {
          nodeId: pick(gw.owner.deviceId, "0".repeat(64)),
          command: pick(NODE_COMMAND, "system.run", "system.which", "fs.read"),
          params: anyValue,
          timeoutMs: pick(1, 50, 2000),
          idempotencyKey: v.label,
        },
        ["nodeId", "command"],
      );
    case "node.invoke.result":
      return nearValid(
        {
          invokeId: v.label,
          id: v.label,
          nodeId: pick(gw.owner.deviceId),
          ok: fc.boolean(),
          payload: anyValue,
          payloadJSON: fc.oneof(pick("{}", "[1,2]", "not json"), fc.constant(null)),
          error: fc.oneof(fc.record({ code: v.label, message: v.label }), fc.constant(null)),
        },
        ["ok"],
      );
    default:
      return null;
  }
}

/**
 * The pin on anything that could run a program: a harmless fixed executable and no arguments or
 * loader variables of the generator's choosing, whatever shape the params took.
 */
function pinCommands(method: string, params: unknown): unknown {
  if (!isRec(params)) return params;
  if (method !== "sessions.spawn" && method !== "cron.add" && method !== "cron.update") return params;
  const out: Record<string, unknown> = { ...params };
  if (method === "sessions.spawn" || "command" in out) out.command = process.execPath;
  if (method === "sessions.spawn" || "args" in out || "command" in out) out.args = ["-e", ""];
  if (isRec(out.env)) {
    out.env = Object.fromEntries(Object.entries(out.env).filter(([k]) => !/^(NODE_|LD_|DYLD_)/i.test(k)));
  }
  return out;
}

function paramsFor(method: string): fc.Arbitrary<unknown> {
  const t = templates(method);
  const arb = t ? fc.oneof({ weight: 1, arbitrary: generic }, { weight: 3, arbitrary: t }) : generic;
  return arb.map((p) => pinCommands(method, p));
}

/** Replaces the live-id placeholders with a session or cron job that exists right now. */
function resolveLive(params: unknown): unknown {
  if (!isRec(params)) return params;
  const choose = (ids: string[]) => (ids.length > 0 ? ids[nextId % ids.length]! : "none-yet");
  const out: Record<string, unknown> = { ...params };
  for (const [k, val] of Object.entries(out)) {
    if (val === LIVE_SESSION) out[k] = choose(gw.store.sessions.list({ limit: 20 }).map((x) => x.id));
    if (val === LIVE_CRON) out[k] = choose(gw.store.cron.list().map((j) => j.id));
  }
  return out;
}

/** Fresh devices (with tokens) and pending requests the generators can name; replaces the last ones. */
function seedDevices(): void {
  known.deviceIds = [];
  known.requestIds = [];
  for (const r of gw.store.pending.list(Date.now())) gw.store.pending.remove(r.requestId);
  for (let i = 0; i < 3; i++) {
    const d = generateIdentity();
    approveDevice(gw.store, {
      deviceId: d.deviceId,
      publicKey: d.publicKey,
      roles: ["operator"],
      scopes: ["operator.read"],
      approvedVia: "approved",
      nowMs: Date.now(),
    });
    gw.store.tokens.issue(d.deviceId, "operator", ["operator.read"], Date.now());
    known.deviceIds.push(d.deviceId);
  }
  for (let i = 0; i < 3; i++) {
    const d = generateIdentity();
    const r = gw.store.pending.upsertForDevice(
      {
        deviceId: d.deviceId,
        publicKey: d.publicKey,
        reason: "not-paired",
        roles: ["operator"],
        scopes: ["operator.read"],
        displayName: null,
        clientId: "cli",
        clientMode: "cli",
        platform: "linux",
        deviceFamily: null,
        remoteIp: "192.0.2.7",
        isRepair: false,
      },
      Date.now(),
      600_000,
      { total: 256, perIp: 16 },
    );
    if (r.kind !== "full") known.requestIds.push(r.request.requestId);
  }
}

const TEST_CALLER = {
  scopes: ["operator.admin"],
  actor: "hardening-test",
  runtimeJobId: null,
  deviceId: null,
};

/**
 * Ends what the fuzzing started (cron jobs, running sessions), then seeds rows the next method's
 * generators can name: devices and pending requests, two disabled cron jobs and one running session
 * (every command `node -e` of the test's choosing).
 */
async function cleanUpAndSeed(): Promise<void> {
  const rt = gw.app.runtime;
  for (const job of gw.store.cron.list()) rt.cron.remove(job.id, TEST_CALLER);
  for (const s of rt.sessions.list({ status: "running" })) await rt.sessions.kill(s.id, TEST_CALLER);
  for (let i = 0; i < 2; i++) {
    rt.cron.add(
      { schedule: "0 0 1 1 *", command: process.execPath, args: ["-e", ""], enabled: false },
      TEST_CALLER,
    );
  }
  seedDevices();
  await rt.sessions.spawn(
    { command: process.execPath, args: ["-e", "setTimeout(() => {}, 60000)"], timeoutMs: 120_000 },
    TEST_CALLER,
  );
}

/** Checks one answer; returns its label. */
function checkAnswer(method: string, caller: Caller, params: unknown, res: WireFrame | null): string {
  const ctx = () =>
    `${caller.name} called ${method} with ${JSON.stringify(params)?.slice(0, 300)} → ${JSON.stringify(res)?.slice(0, 400)}`;
  assert.ok(res, `no answer (or the connection closed): ${ctx()}`);
  assert.equal(caller.peer.isClosed(), false, `the connection closed: ${ctx()}`);
  const need = methodRequirement(method);
  const allowed =
    need.role === caller.role && (need.scope === null || scopeSatisfied(caller.scopes, need.scope));
  if (res.ok === true) {
    assert.ok(allowed, `SUCCEEDED without the method's role/scope: ${ctx()}`);
    return "ok";
  }
  assert.deepEqual(errorShapeProblems(res), [], ctx());
  const code = codeOf(res) as GatewayErrorCode;
  assert.equal(ERROR_TABLE[code].close, null, `a method error must keep the connection open: ${ctx()}`);
  if (!allowed) {
    assert.equal(res.error?.code, "FORBIDDEN", `refused for role/scope with FORBIDDEN: ${ctx()}`);
    assert.equal(code, need.role === caller.role ? "MISSING_SCOPE" : "ROLE_NOT_ALLOWED", ctx());
    return code;
  }
  if (code === "INTERNAL_ERROR") {
    const reason = res.error?.details?.reason;
    assert.ok(
      method === "node.invoke" && typeof reason === "string" && NODE_FAILURE_REASONS.has(reason),
      `bad params ended in an internal error: ${ctx()}`,
    );
    return `UNAVAILABLE:${String(reason)}`;
  }
  return code;
}

describe("hardening: every advertised method under arbitrary params and every kind of caller", () => {
  it("answers with a success or a documented error, refuses callers without the scope, stays usable", async (t) => {
    assert.ok(methods.length >= 10, `hello-ok advertises the method table: ${methods.join(", ")}`);
    t.diagnostic(`methods (${methods.length}): ${methods.join(", ")}`);
    for (const method of methods) {
      // Half the calls come from callers the method table lets through, so handlers get exercised.
      const need = methodRequirement(method);
      const entitled = callers.filter(
        (c) => c.role === need.role && (need.scope === null || scopeSatisfied(c.scopes, need.scope)),
      );
      const callerArb = fc.oneof(
        fc.constantFrom(...callers),
        fc.constantFrom(...(entitled.length > 0 ? entitled : callers)),
      );
      await t.test(method, async (st) => {
        const tally = new Tally();
        await fc.assert(
          fc.asyncProperty(callerArb, paramsFor(method), async (caller, params) => {
            params = resolveLive(params);
            const res = await request(caller.peer, `q${++nextId}`, method, params);
            const label = checkAnswer(method, caller, params, res);
            tally.add(`${caller.name}:${label}`);
            if (process.env.FUZZ_DEBUG && caller.name === "admin" && label !== "ok")
              console.error(
                method,
                JSON.stringify(params)?.slice(0, 200),
                "→",
                res?.error?.message.slice(0, 200),
              );
          }),
          { numRuns: RUNS },
        );
        await cleanUpAndSeed();
        st.diagnostic(`${method}: ${tally}`);
      });
    }
    assert.equal(logger.count("method failed"), 0, "no handler threw an undocumented error");
    // Every session still works.
    for (const c of callers) {
      const res = await request(
        c.peer,
        `final-${c.name}`,
        c.role === "node" ? "node.invoke.result" : "health",
        {},
      );
      assert.ok(res, `${c.name} still answers`);
      assert.equal(c.peer.isClosed(), false, `${c.name} still open`);
    }
    await sleep(10);
  });
});

describe("hardening: the owner device under device management", () => {
  it("a caller holding only operator.pairing cannot revoke the owner's operator role", {}, async () => {
    const g = await startTestGateway({ autoApproveLocal: false });
    try {
      const pairing = await openBare(g.url);
      pairing.ws.send(
        JSON.stringify({
          type: "req",
          id: "p",
          method: "connect",
          params: connectParams(pairing.challenge.nonce, {
            auth: { token: TEST_TOKEN },
            scopes: ["operator.pairing"],
          }),
        }),
      );
      assert.equal((await pairing.waitFor((f) => f.id === "p"))?.ok, true);
      const res = await request(pairing, "rv", "device.token.revoke", {
        deviceId: g.owner.deviceId,
        role: "operator",
      });
      assert.equal(res?.ok, false, `refused: ${JSON.stringify(res)?.slice(0, 300)}`);
      assert.equal(res?.error?.code, "FORBIDDEN");
      const owner = await openBare(g.url);
      owner.ws.send(
        JSON.stringify({
          type: "req",
          id: "o",
          method: "connect",
          params: connectParams(owner.challenge.nonce, { identity: g.owner, scopes: ["operator.admin"] }),
        }),
      );
      const hello = await owner.waitFor((f) => f.id === "o");
      assert.equal(
        hello?.ok,
        true,
        `the owner key is still admitted: ${JSON.stringify(hello)?.slice(0, 300)}`,
      );
      pairing.ws.close();
      owner.ws.close();
    } finally {
      await g.stop();
    }
  });
});
