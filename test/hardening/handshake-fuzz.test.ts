/**
 * Property tests of the handshake against a real in-process gateway: arbitrary first frames, and
 * mutations of a valid signed connect. Every answer must be the documented one (a `res` with
 * `ok:false` and a code from ERROR_TABLE, or a close with 1002/1007/1008/1009); nothing is admitted
 * unless the oracle (oracle.ts, written from the reference) says the frame is an admissible connect,
 * and then only with the requested role and scopes; nothing refused before the policy leaves a row
 * behind; the gateway keeps admitting a fresh valid client afterwards.
 */
import assert from "node:assert/strict";
import { createPublicKey, sign } from "node:crypto";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { generateIdentity, type DeviceIdentity } from "../../src/identity/keys.js";
import { GATEWAY_CLIENT_IDS, GATEWAY_CLIENT_MODES } from "../../src/protocol/client-info.js";
import { ERROR_TABLE, type GatewayErrorCode } from "../../src/protocol/errors.js";
import { approveDevice } from "../../src/store/approve.js";
import { startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import { connectParams } from "../helpers/raw-client.js";
import { isRec, judge, payloads, type OracleWorld, type Verdict } from "./oracle.js";
import {
  codeOf,
  errorShapeProblems,
  firstFrameOutcome,
  openBare,
  recordingLogger,
  request,
  rightsSnapshot,
  size,
  Tally,
  type BarePeer,
  type Outcome,
} from "./support.js";

const RUNS = size(200, 5000);
const PREAUTH_LIMIT = 64 * 1024;
const BASE_SCOPES = ["operator.read", "operator.write"];

/** Codes that only a check before the policy produces: they must leave the store untouched. */
const PRE_POLICY = new Set([
  "INVALID_FRAME",
  "HANDSHAKE_NOT_CONNECT",
  "INVALID_CONNECT_PARAMS",
  "PROTOCOL_MISMATCH",
  "INVALID_ROLE",
  "DEVICE_AUTH_DEVICE_ID_MISMATCH",
  "DEVICE_AUTH_SIGNATURE_EXPIRED",
  "DEVICE_AUTH_NONCE_REQUIRED",
  "DEVICE_AUTH_NONCE_MISMATCH",
  "DEVICE_AUTH_SIGNATURE_INVALID",
  "DEVICE_AUTH_PUBLIC_KEY_INVALID",
]);

const STAGE_CODE: Partial<Record<Verdict["stage"], GatewayErrorCode>> = {
  "not-connect": "HANDSHAKE_NOT_CONNECT",
  params: "INVALID_CONNECT_PARAMS",
  protocol: "PROTOCOL_MISMATCH",
  role: "INVALID_ROLE",
};

let gw: TestGateway;
let logger: ReturnType<typeof recordingLogger>;
let fixture: DeviceIdentity;
let liveToken: { token: string; scopes: string[] } | null;

before(async () => {
  logger = recordingLogger();
  // Silent local approval off: on loopback it would approve (legitimately) what the oracle calls an upgrade.
  gw = await startTestGateway({ autoApproveLocal: false, logger });
  fixture = generateIdentity();
  approveDevice(gw.store, {
    deviceId: fixture.deviceId,
    publicKey: fixture.publicKey,
    roles: ["operator"],
    scopes: BASE_SCOPES,
    clientId: "cli",
    clientMode: "cli",
    platform: "linux",
    deviceFamily: "",
    approvedVia: "approved",
    nowMs: Date.now(),
  });
  liveToken = {
    token: gw.store.tokens.issue(fixture.deviceId, "operator", BASE_SCOPES, Date.now()),
    scopes: BASE_SCOPES,
  };
});

after(async () => {
  await gw.stop();
});

function world(nonce: string): OracleWorld {
  return {
    sharedToken: TEST_TOKEN,
    device: {
      deviceId: fixture.deviceId,
      raw: Buffer.from(fixture.publicKey, "base64url"),
      key: createPublicKey(fixture.publicKeyPem),
      roles: ["operator"],
      scopes: BASE_SCOPES,
      platform: "linux",
      deviceFamily: "",
    },
    deviceToken: liveToken,
    nonce,
    nowMs: Date.now(),
  };
}

/** What one frame is on the wire. */
interface Wire {
  bytes: Buffer;
  binary: boolean;
}

function isValidUtf8(b: Buffer): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks one outcome against the verdict for what was sent; returns a label for the tally. Throws
 * (fails the property) on anything undocumented.
 */
function check(
  wire: Wire,
  verdict: Verdict | null,
  out: Outcome,
  before: ReturnType<typeof rightsSnapshot>,
): string {
  const ctx = () =>
    `sent ${wire.binary ? "binary" : "text"} ${wire.bytes.toString("utf8").slice(0, 300)}; verdict ${JSON.stringify(verdict)}; ` +
    `res ${JSON.stringify(out.res)?.slice(0, 400)}; close ${JSON.stringify(out.close)}`;
  assert.equal(out.timedOut, false, `the gateway neither answered nor closed: ${ctx()}`);
  for (const f of out.frames) {
    assert.ok(f.type === "res" || f.type === "event", `unexpected frame type: ${ctx()}`);
  }
  const after = rightsSnapshot(gw.store);
  const unchanged = (what: string) => {
    assert.equal(after.devices, before.devices, `${what} changed a device record: ${ctx()}`);
    assert.equal(after.tokens, before.tokens, `${what} changed a token slot: ${ctx()}`);
    assert.equal(after.pending, before.pending, `${what} left a pending request: ${ctx()}`);
  };

  // Transport-level refusals come first, whatever the content.
  if (wire.bytes.length > PREAUTH_LIMIT) {
    assert.equal(out.res, null, ctx());
    assert.equal(out.close?.code, 1009, ctx());
    unchanged("an oversized frame");
    return "close-1009";
  }
  if (!wire.binary && !isValidUtf8(wire.bytes)) {
    assert.equal(out.res, null, ctx());
    assert.equal(out.close?.code, 1007, ctx());
    unchanged("invalid UTF-8");
    return "close-1007";
  }
  if (wire.binary || verdict === null || verdict.stage === "frame") {
    assert.equal(out.res, null, `a frame that is not a request gets no response: ${ctx()}`);
    assert.deepEqual(out.close, { code: 1008, reason: ERROR_TABLE.INVALID_FRAME.message }, ctx());
    unchanged("an invalid frame");
    return "close-1008-invalid-frame";
  }

  const res = out.res;
  assert.ok(res, `a request frame always gets a response: ${ctx()}`);
  if (res.ok === true) {
    assert.equal(verdict.stage, "admit", `ADMITTED a connect the oracle refuses: ${ctx()}`);
    if (verdict.stage !== "admit") return "bug";
    const auth = (res.payload as { auth?: { role?: string; scopes?: string[]; deviceToken?: string } }).auth;
    assert.equal(auth?.role, verdict.role, `admitted with another role: ${ctx()}`);
    assert.deepEqual(auth?.scopes, verdict.scopes, `admitted with other scopes than requested: ${ctx()}`);
    assert.equal(after.devices, before.devices, `an admission changed a device's rights: ${ctx()}`);
    assert.equal(after.pending, before.pending, `an admission left a pending request: ${ctx()}`);
    if (auth?.deviceToken) liveToken = { token: auth.deviceToken, scopes: BASE_SCOPES };
    else if (after.tokens !== before.tokens)
      assert.fail(`tokens changed without a token in hello-ok: ${ctx()}`);
    return "admitted";
  }

  assert.deepEqual(errorShapeProblems(res), [], ctx());
  const code = codeOf(res) as GatewayErrorCode;
  const row = ERROR_TABLE[code];
  assert.notEqual(row.close, null, `a handshake error must close the socket: ${ctx()}`);
  assert.equal(out.close?.code, row.close, `close code other than the table's: ${ctx()}`);
  assert.notEqual(code, "INTERNAL_ERROR", `a malformed connect must not reach an internal error: ${ctx()}`);

  if (code === "AUTH_RATE_LIMITED") {
    // C17: a locked-out address is refused whatever it sends; never an admission.
    unchanged("a rate-limited connect");
    return code;
  }
  switch (verdict.stage) {
    case "admit":
      assert.fail(`REFUSED an admissible connect: ${ctx()}`);
      break;
    case "device-proof":
      assert.equal(code, verdict.code, `device proof failures come in the documented order: ${ctx()}`);
      break;
    case "policy":
      assert.ok(!PRE_POLICY.has(code), `refused too early for a ${verdict.why} case: ${ctx()}`);
      break;
    case "uncertain":
      break;
    default:
      assert.equal(code, STAGE_CODE[verdict.stage], ctx());
  }
  if (PRE_POLICY.has(code)) unchanged(`a connect refused with ${code}`);
  else if (code === "PAIRING_REQUIRED") {
    assert.equal(after.devices, before.devices, `a pend changed a device record: ${ctx()}`);
    assert.equal(after.tokens, before.tokens, `a pend changed a token: ${ctx()}`);
    const p = gw.store.pending.getByDevice(fixture.deviceId, Date.now());
    assert.ok(p, `PAIRING_REQUIRED without a pending request: ${ctx()}`);
    assert.equal(res.error?.details?.requestId, p.requestId, ctx());
    // Keep each run independent: the next mutation starts from no pending request.
    gw.store.pending.removeForDevice(fixture.deviceId);
  } else unchanged(`a connect refused with ${code}`);
  return code;
}

async function sendWire(wire: Wire): Promise<Outcome & { peer: BarePeer }> {
  return firstFrameOutcome(gw.url, (peer) => peer.ws.send(wire.bytes, { binary: wire.binary }));
}

function textWire(text: string): Wire {
  return { bytes: Buffer.from(text, "utf8"), binary: false };
}

function parseOrNull(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8")) as unknown;
  } catch {
    return Symbol.for("unparseable");
  }
}

async function assertFreshClientAdmitted(): Promise<void> {
  const peer = await openBare(gw.url);
  peer.ws.send(
    JSON.stringify({
      type: "req",
      id: "fresh",
      method: "connect",
      params: connectParams(peer.challenge.nonce, { identity: gw.owner, scopes: ["operator.read"] }),
    }),
  );
  const hello = await peer.waitFor((f) => f.type === "res" && f.id === "fresh");
  assert.equal(hello?.ok, true, `a fresh valid client is still admitted: ${JSON.stringify(hello)}`);
  const health = await request(peer, "h", "health");
  assert.equal(health?.ok, true);
  peer.ws.close();
}

// ---- arbitraries ----

const scopeNames = fc.constantFrom(
  "operator.read",
  "operator.write",
  "operator.admin",
  "operator.pairing",
  "operator.approvals",
  "operator.talk.secrets",
  "node.camera",
  "",
  "operator.",
  "OPERATOR.ADMIN",
);
const specialNumber = fc.constantFrom(
  -1,
  0,
  1,
  3,
  4,
  5,
  1.5,
  -0,
  2 ** 31,
  2 ** 53,
  2 ** 53 + 2,
  1e308,
  -1e308,
  4.000001,
  Number.MAX_SAFE_INTEGER,
);
const specialString = fc.constantFrom(
  "",
  " ",
  "\u0000",
  "operator",
  "node",
  "admin",
  "Operator",
  "cli",
  " CLI ",
  "LINUX",
  "linux\u00a0",
  "\u0130OS",
  "\u202eevil",
  "\ud83d\ude00",
  "\ud800",
  "x".repeat(3000),
  TEST_TOKEN,
  ` ${TEST_TOKEN} `,
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: specialString },
  { weight: 2, arbitrary: specialNumber },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.array(scopeNames, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.constantFrom(...GATEWAY_CLIENT_IDS, ...GATEWAY_CLIENT_MODES) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
);
const keyName = fc.oneof(
  fc.constantFrom("extra", "__proto__", "constructor", "role", "scopes", "admin", "token", "deviceToken", ""),
  fc.string({ maxLength: 12 }),
);

type Mutation =
  | { kind: "drop"; pick: number }
  | { kind: "set"; pick: number; value: unknown }
  | { kind: "add"; pick: number; key: string; value: unknown }
  | {
      kind: "tweak";
      pick: number;
      how: "upper" | "lower" | "pad" | "zw" | "nfd" | "nul" | "repeat" | "empty";
    }
  | { kind: "number"; pick: number; value: number }
  | { kind: "huge"; target: "scopes" | "caps" | "commands"; n: number; item: string }
  | { kind: "rights"; field: RightsField; value: unknown };

type RightsField =
  "scopes" | "role" | "token" | "deviceToken" | "platform" | "deviceFamily" | "clientId" | "mode";

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("drop" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("set" as const), pick: fc.nat(), value: anyValue }),
  fc.record({ kind: fc.constant("add" as const), pick: fc.nat(), key: keyName, value: anyValue }),
  fc.record({
    kind: fc.constant("tweak" as const),
    pick: fc.nat(),
    how: fc.constantFrom("upper", "lower", "pad", "zw", "nfd", "nul", "repeat", "empty"),
  }),
  fc.record({ kind: fc.constant("number" as const), pick: fc.nat(), value: specialNumber }),
  fc.record({
    kind: fc.constant("huge" as const),
    target: fc.constantFrom("scopes", "caps", "commands"),
    n: fc.constantFrom(500, 1000, 3000, 10_000),
    item: fc.constantFrom("operator.read", "operator.admin", "x", "\u00e9\u00e9\u00e9"),
  }),
  // What a connect asks for and proves with: the fields an escalation would change (weighted up).
  rightsArb(),
  rightsArb(),
  rightsArb(),
);

function rightsArb(): fc.Arbitrary<Mutation> {
  return fc.oneof(
    fc.record({
      kind: fc.constant("rights" as const),
      field: fc.constant("scopes" as const),
      value: fc.array(scopeNames, { maxLength: 4 }),
    }),
    fc.record({
      kind: fc.constant("rights" as const),
      field: fc.constantFrom("role" as const, "mode" as const, "clientId" as const),
      value: fc.oneof(
        fc.constantFrom("operator", "node", "admin", "OPERATOR"),
        fc.constantFrom(...GATEWAY_CLIENT_IDS, ...GATEWAY_CLIENT_MODES),
      ),
    }),
    fc.record({
      kind: fc.constant("rights" as const),
      field: fc.constantFrom("token" as const, "deviceToken" as const),
      value: fc.oneof(
        fc.constantFrom(TEST_TOKEN, ` ${TEST_TOKEN}`, TEST_TOKEN.slice(1), "", "live-token"),
        fc.string({ maxLength: 50 }),
      ),
    }),
    fc.record({
      kind: fc.constant("rights" as const),
      field: fc.constantFrom("platform" as const, "deviceFamily" as const),
      value: fc.constantFrom("linux", "LINUX", " linux ", "darwin", "", "iphone", "\u0130OS"),
    }),
  );
}

interface Plan {
  variant: "shared" | "device-token" | "both" | "device-less";
  scopes: string[];
  mutations: Mutation[];
  resign: boolean;
}

const planArb: fc.Arbitrary<Plan> = fc.record({
  variant: fc.constantFrom("shared", "device-token", "both", "device-less"),
  scopes: fc.subarray(BASE_SCOPES),
  mutations: fc.array(mutationArb, { minLength: 0, maxLength: 3 }),
  resign: fc.boolean(),
});

type Path = Array<string | number>;

function allPaths(v: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push([...prefix, i], ...allPaths(x, [...prefix, i])));
  else if (isRec(v))
    for (const k of Object.keys(v)) out.push([...prefix, k], ...allPaths(v[k], [...prefix, k]));
  return out;
}

function getAt(root: unknown, path: Path): unknown {
  let cur = root;
  for (const k of path) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

/** Sets an own data property (so `__proto__` is a key, not a prototype change). */
function setAt(root: unknown, path: Path, value: unknown): void {
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, unknown>;
  Object.defineProperty(parent, path.at(-1)!, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function dropAt(root: unknown, path: Path): void {
  const parent = getAt(root, path.slice(0, -1));
  const key = path.at(-1)!;
  if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete (parent as Record<string, unknown>)[key as string];
}

function tweak(s: string, how: Extract<Mutation, { kind: "tweak" }>["how"]): string {
  switch (how) {
    case "upper":
      return s.toUpperCase();
    case "lower":
      return s.toLowerCase();
    case "pad":
      return ` ${s}\t`;
    case "zw":
      return `\u200b${s}`;
    case "nfd":
      return `${s.normalize("NFD")}\u0301`;
    case "nul":
      return `${s}\u0000`;
    case "repeat":
      return s.repeat(200);
    case "empty":
      return "";
  }
}

const RIGHTS_PATH: Record<RightsField, Path> = {
  scopes: ["params", "scopes"],
  role: ["params", "role"],
  token: ["params", "auth", "token"],
  deviceToken: ["params", "auth", "deviceToken"],
  platform: ["params", "client", "platform"],
  deviceFamily: ["params", "client", "deviceFamily"],
  clientId: ["params", "client", "id"],
  mode: ["params", "client", "mode"],
};

function applyMutation(frame: Record<string, unknown>, m: Mutation): void {
  const paths = allPaths(frame);
  if (m.kind === "rights") {
    const path = RIGHTS_PATH[m.field];
    if (!isRec(getAt(frame, path.slice(0, -1)))) return;
    const value = m.value === "live-token" ? (liveToken?.token ?? "none") : m.value;
    setAt(frame, path, value);
    return;
  }
  if (m.kind === "huge") {
    if (isRec(frame.params))
      setAt(
        frame,
        ["params", m.target],
        Array.from({ length: m.n }, () => m.item),
      );
    return;
  }
  if (m.kind === "add") {
    const containers: Path[] = [[], ...paths.filter((p) => isRec(getAt(frame, p)))];
    setAt(frame, [...containers[m.pick % containers.length]!, m.key], m.value);
    return;
  }
  if (paths.length === 0) return;
  if (m.kind === "tweak") {
    const strings = paths.filter((p) => typeof getAt(frame, p) === "string");
    if (strings.length === 0) return;
    const p = strings[m.pick % strings.length]!;
    setAt(frame, p, tweak(getAt(frame, p) as string, m.how));
    return;
  }
  if (m.kind === "number") {
    const numbers = paths.filter((p) => typeof getAt(frame, p) === "number");
    const pool = numbers.length > 0 ? numbers : paths;
    setAt(frame, pool[m.pick % pool.length]!, m.value);
    return;
  }
  const p = paths[m.pick % paths.length]!;
  if (m.kind === "drop") dropAt(frame, p);
  else setAt(frame, p, m.value);
}

function baseFrame(nonce: string, plan: Plan): Record<string, unknown> {
  const token = liveToken?.token ?? "no-live-token";
  const auth =
    plan.variant === "device-token"
      ? { deviceToken: token }
      : plan.variant === "both"
        ? { token: TEST_TOKEN, deviceToken: token }
        : { token: TEST_TOKEN };
  const params = connectParams(nonce, {
    identity: plan.variant === "device-less" ? undefined : fixture,
    scopes: plan.scopes,
    auth,
    platform: "linux",
    extra: {
      caps: ["tool-events"],
      commands: [],
      permissions: { camera: false },
      locale: "en-US",
      userAgent: "gatehouse-fuzz/1",
    },
  });
  (params.client as Record<string, unknown>).displayName = "fuzz device";
  return { type: "req", id: "c1", method: "connect", params };
}

/** Re-signs the (mutated) params with the fixture key, when they still have the fields to sign. */
function resign(frame: Record<string, unknown>): void {
  const params = frame.params;
  if (!isRec(params) || !isRec(params.device)) return;
  const p = payloads(params);
  if (!p) return;
  params.device.signature = sign(null, Buffer.from(p.v3, "utf8"), fixture.privateKey).toString("base64url");
}

// ---- tests ----

describe("hardening: the handshake under arbitrary and mutated first frames", () => {
  // First, before any failed attempt could count against this address (C17 rate limits).
  it("the unmutated connect of every variant is admitted (the oracle's baseline)", async () => {
    for (const variant of ["shared", "device-token", "both", "device-less"] as const) {
      const before = rightsSnapshot(gw.store);
      let verdict: Verdict | null = null;
      let sent: Wire | null = null;
      const out = await firstFrameOutcome(gw.url, (peer) => {
        const frame = baseFrame(peer.challenge.nonce, {
          variant,
          scopes: BASE_SCOPES,
          mutations: [],
          resign: false,
        });
        sent = textWire(JSON.stringify(frame));
        verdict = judge(frame, world(peer.challenge.nonce));
        peer.ws.send(sent.bytes, { binary: false });
      });
      assert.equal(verdict!.stage, "admit", variant);
      assert.equal(check(sent!, verdict, out, before), "admitted", variant);
    }
  });

  it("arbitrary strings, bytes and JSON values as the first frame are refused as documented", async (t) => {
    const tally = new Tally();
    /** Mostly right, sometimes anything: so that every stage of the handshake gets reached. */
    const often = <T>(good: fc.Arbitrary<T>) =>
      fc.oneof({ weight: 9, arbitrary: good as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: anyValue });
    const connectLike = fc.record(
      {
        minProtocol: often(fc.constantFrom(1, 3, 4)),
        maxProtocol: often(fc.constantFrom(4, 5)),
        client: often(
          fc.record(
            {
              id: often(fc.constantFrom(...GATEWAY_CLIENT_IDS)),
              version: often(fc.constant("1.0.0")),
              platform: often(fc.constantFrom("linux", "darwin")),
              mode: often(fc.constantFrom(...GATEWAY_CLIENT_MODES)),
              displayName: anyValue,
            },
            { requiredKeys: ["id", "version", "platform", "mode"] },
          ),
        ),
        role: often(fc.constantFrom("operator", "node")),
        scopes: often(fc.array(scopeNames, { maxLength: 4 })),
        auth: often(
          fc.record(
            {
              token: often(fc.constantFrom(TEST_TOKEN, "wrong-token")),
              deviceToken: often(fc.string({ maxLength: 30 })),
              password: anyValue,
              agentRuntimeIdentityToken: often(fc.string({ maxLength: 30 })),
            },
            { requiredKeys: [] },
          ),
        ),
        device: anyValue,
        caps: anyValue,
      },
      { requiredKeys: ["minProtocol", "maxProtocol", "client"] },
    );
    const requestLike = fc
      .record(
        {
          type: often(fc.constant("req")),
          id: often(fc.string({ minLength: 1, maxLength: 8 })),
          method: often(
            fc.constantFrom("connect", "connect", "connect", "health", "device.pair.approve", "CONNECT"),
          ),
          params: often(connectLike),
          extra: fc.oneof(
            { weight: 9, arbitrary: fc.constant(undefined) },
            { weight: 1, arbitrary: anyValue },
          ),
        },
        { requiredKeys: ["type", "id", "method", "extra"] },
      )
      .map((v) => textWire(JSON.stringify(v)));
    const frameArb = fc.oneof(
      { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }).map((s) => textWire(s)) },
      {
        weight: 1,
        arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => ({ bytes: Buffer.from(b), binary: false })),
      },
      {
        weight: 1,
        arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => ({ bytes: Buffer.from(b), binary: true })),
      },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => textWire(JSON.stringify(v))) },
      { weight: 8, arbitrary: requestLike },
    );
    await fc.assert(
      fc.asyncProperty(frameArb, async (wire) => {
        const before = rightsSnapshot(gw.store);
        const out = await sendWire(wire);
        const parsed = wire.binary ? null : parseOrNull(wire.bytes);
        const verdict = typeof parsed === "symbol" ? null : judge(parsed, world(out.peer.challenge.nonce));
        tally.add(check(wire, verdict, out, before));
      }),
      { numRuns: RUNS },
    );
    t.diagnostic(`first frames: ${tally}`);
    assert.equal(logger.count("connect failed"), 0, "no connect reached a store failure");
    await assertFreshClientAdmitted();
  });

  it("mutations of a valid signed connect: admitted only when the oracle calls them admissible", async (t) => {
    const tally = new Tally();
    const stages = new Tally();
    await fc.assert(
      fc.asyncProperty(planArb, async (plan) => {
        const before = rightsSnapshot(gw.store);
        let sent: Wire | null = null;
        let verdict: Verdict | null = null;
        const out = await firstFrameOutcome(gw.url, (peer) => {
          const frame = baseFrame(peer.challenge.nonce, plan);
          for (const m of plan.mutations) applyMutation(frame, m);
          if (plan.resign) resign(frame);
          sent = textWire(JSON.stringify(frame));
          // Judge what the gateway will parse, at the time it is sent.
          verdict = judge(JSON.parse(sent.bytes.toString("utf8")), world(peer.challenge.nonce));
          peer.ws.send(sent.bytes, { binary: false });
        });
        stages.add(sent!.bytes.length > PREAUTH_LIMIT ? "oversized" : verdict!.stage);
        tally.add(check(sent!, verdict, out, before));
      }),
      { numRuns: RUNS },
    );
    t.diagnostic(`mutated connects, by outcome: ${tally}`);
    t.diagnostic(`mutated connects, by oracle verdict: ${stages}`);
    assert.ok(tally.get("admitted") > 0, "some mutations keep the connect admissible (and are admitted)");
    assert.ok(stages.total - stages.get("admit") > 0, "most mutations make it inadmissible");
    assert.equal(logger.count("connect failed"), 0, "no connect reached a store failure");
    await assertFreshClientAdmitted();
  });
});
