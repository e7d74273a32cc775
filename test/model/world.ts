/**
 * The real side of the model tests and the comparison run after every step: every connection the
 * model believes alive answers and holds exactly its scopes, every one it believes dead is closed,
 * every token it believes current admits and every token it believes dead does not, and the
 * gateway's own list of devices, tokens and pending requests is the model's.
 */
import assert from "node:assert/strict";
import { generateIdentity, type DeviceIdentity } from "../../src/identity/keys.js";
import type { PairList } from "../../src/protocol/devices.js";
import type { ConnectOptions, Frame } from "../helpers/raw-client.js";
import {
  covers,
  coversAll,
  exposedBy,
  newDevice,
  newNode,
  READ,
  sameSet,
  set,
  whoName,
  type ConnModel,
  type Model,
} from "./reference.js";
import {
  connect,
  helloAuth,
  MODEL_TOKEN,
  terminateSockets,
  type Conn,
  type GatewayUnderTest,
} from "./wire.js";
import type { Watched } from "./watch.js";

/** How many devices a sequence plays with (besides the owner). */
export const DEVICES = 3;
/** Live connections the test holds per device at most (the oldest is dropped beyond). */
export const CONNS_PER_DEVICE = 2;

/** What the runs covered, printed at the end. */
export class Coverage {
  sequences = 0;
  steps = 0;
  readonly ops = new Map<string, { allowed: number; refused: number }>();
  probes = 0;
  /** The seed of each run, so that a passing run can be run again as it was. */
  readonly seeds: number[] = [];
  /** Processes of sessions still there when their gateway was disposed of (killed then). */
  leftBehind = 0;

  count(op: string, allowed: boolean): void {
    const c = this.ops.get(op) ?? { allowed: 0, refused: 0 };
    if (allowed) c.allowed++;
    else c.refused++;
    this.ops.set(op, c);
  }

  report(): string {
    const ops = [...this.ops.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([op, c]) =>
          `  ${op.padEnd(30)} ${String(c.allowed).padStart(5)} allowed ${String(c.refused).padStart(5)} refused`,
      );
    return [
      `model: ${this.sequences} sequences, ${this.steps} steps, ${this.probes} probe connects`,
      ...(this.leftBehind > 0
        ? [`  ${this.leftBehind} processes of sessions outlived their gateway's stop (killed)`]
        : []),
      `  seeds ${this.seeds.join(", ")}: GATEHOUSE_MODEL_SEED=<seed> runs those sequences again; a failure prints its own replay line`,
      ...ops,
    ].join("\n");
  }
}

export class Real implements Watched {
  readonly identities: DeviceIdentity[];
  readonly conns = new Map<number, Conn>();
  /** The current token of each device, when the test holds it. */
  readonly tokens: Array<string | null>;
  /** Tokens that must never admit again, per device. */
  readonly stale: string[][];
  /** Each session's runtime token. */
  readonly runtimeTokens = new Map<string, string>();
  /** The node host's key, its current token when the test holds it, and its dead tokens. */
  readonly nodeIdentity = generateIdentity();
  nodeToken: string | null = null;
  readonly nodeStale: string[] = [];
  /** What the current step did, for the failure message. */
  step = "";

  constructor(
    readonly gw: GatewayUnderTest,
    readonly coverage: Coverage,
  ) {
    this.identities = Array.from({ length: DEVICES }, () => generateIdentity());
    this.tokens = this.identities.map(() => null);
    this.stale = this.identities.map(() => []);
  }

  conn(c: ConnModel): Conn {
    const conn = this.conns.get(c.id);
    assert.ok(conn, `no socket for connection ${c.id}`);
    return conn;
  }

  /** The device's current token is no longer current; remember it as one that must never admit. */
  retireToken(m: Model, device: number): void {
    const t = this.tokens[device];
    if (t) {
      this.stale[device]!.push(t);
      m.devices[device]!.hasStaleToken = true;
    }
    this.tokens[device] = null;
    m.devices[device]!.tokenKnown = false;
  }

  /** The node's current token is no longer current: remember it as one that must never admit. */
  retireNodeToken(m: Model): void {
    if (this.nodeToken) this.nodeStale.push(this.nodeToken);
    this.nodeToken = null;
    m.node.tokenKnown = false;
  }

  /** Closes the connections, stops the gateway (bounded) and removes its directories. */
  async dispose(): Promise<{ problem: string | null; leftBehind: number }> {
    for (const c of this.conns.values()) c.close();
    return this.gw.dispose();
  }

  /** The gateway's state, process tree and last log lines: the gateway's side of a hang's report. */
  diagnose(): string {
    return this.gw.diagnose();
  }

  /** After a hang: the gateway and everything it started are killed, every socket is ended. */
  async abort(): Promise<void> {
    try {
      await this.gw.abort();
    } finally {
      terminateSockets();
    }
  }
}

export function newModel(): Model {
  return {
    clockMoves: 0,
    devices: Array.from({ length: DEVICES }, () => newDevice()),
    node: newNode(),
    conns: [],
    nextConnId: 0,
    codes: [],
    sessions: [],
    jobs: [],
  };
}

/** Adds a connection the test now holds to both sides. */
export function hold(
  m: Model,
  r: Real,
  conn: Conn,
  who: ConnModel["who"],
  proof: ConnModel["proof"],
  scopes: string[],
  remote = false,
) {
  const c: ConnModel = {
    id: m.nextConnId++,
    who,
    proof,
    scopes: set(scopes),
    alive: true,
    ...(remote ? { remote } : {}),
  };
  m.conns.push(c);
  r.conns.set(c.id, conn);
  if (typeof who === "number") {
    const mine = m.conns.filter((x) => x.who === who && x.alive);
    if (mine.length > CONNS_PER_DEVICE) drop(m, r, mine[0]!);
  }
  return c;
}

/** The test closes one of its own connections. */
export function drop(m: Model, r: Real, c: ConnModel): void {
  r.conns.get(c.id)?.close();
  r.conns.delete(c.id);
  m.conns = m.conns.filter((x) => x.id !== c.id);
}

/** Opens the owner's (owner key, every scope) and the host CLI's (shared secret, no device) sessions. */
export async function openRoots(m: Model, r: Real): Promise<void> {
  const owner = await connect(r.gw.url, {
    identity: r.gw.owner,
    scopes: ["operator.admin", "operator.pairing", "operator.read"],
  });
  assert.equal(owner.res.ok, true, JSON.stringify(owner.res.error));
  hold(m, r, owner.conn, "owner", "owner-key", helloAuth(owner.res).scopes);
  // A narrow owner on the host: it may take anything away, but grants only within its scopes.
  const cli = await connect(r.gw.url, {
    auth: { token: MODEL_TOKEN },
    clientId: "cli",
    mode: "cli",
    scopes: ["operator.pairing", "operator.read"],
  });
  assert.equal(cli.res.ok, true, JSON.stringify(cli.res.error));
  hold(m, r, cli.conn, "cli", "shared-secret", helloAuth(cli.res).scopes);
}

/** The owner's session, the one the comparison reads the gateway's state through. */
export function ownerConn(m: Model, r: Real): Conn {
  const c = m.conns.find((x) => x.who === "owner" && x.alive && !x.remote);
  assert.ok(c, "the owner's session is gone");
  return r.conn(c);
}

export function fail(r: Real, what: string, detail: unknown = undefined): never {
  throw new Error(
    `${r.step}: ${what}${detail === undefined ? "" : `\n  gateway: ${JSON.stringify(detail)}`}`,
  );
}

/** Compares every observable with the model; prunes the connections both agree are closed. */
export async function compare(m: Model, r: Real): Promise<void> {
  r.coverage.steps++;
  // Connections the model says were closed by the step must be closed, promptly.
  for (const c of m.conns.filter((x) => !x.alive)) {
    const conn = r.conn(c);
    // A session's end is noticed when its process exits: give that a moment under load.
    if (!(await conn.closedWithin(typeof c.who === "object" ? 20_000 : 3000)))
      fail(r, `connection ${c.id} (${whoName(c.who)}, ${c.proof}) is still open after its authority ended`);
    if (conn.closeCode !== 4001 && conn.closeCode !== 1012)
      fail(r, `connection ${c.id} closed with ${conn.closeCode}, not 4001`);
    r.conns.delete(c.id);
  }
  m.conns = m.conns.filter((x) => x.alive);
  // Connections it says are alive answer, and hold what they held: no more, no less.
  for (const c of m.conns) {
    const res = await r.conn(c).request("health");
    if (res === null)
      fail(r, `connection ${c.id} (${whoName(c.who)}, ${c.proof}) was closed; its authority stands`);
    if (res.ok !== covers(c.scopes, READ))
      fail(
        r,
        `health on connection ${c.id} holding [${c.scopes.join(",")}] answered ok=${res.ok}`,
        res.error,
      );
  }
  await probeTokens(m, r);
  await compareList(m, r);
  await compareWork(m, r);
}

/** Sessions run exactly while the model says so, dead runtime tokens admit nothing, jobs are enabled as modelled. */
async function compareWork(m: Model, r: Real): Promise<void> {
  if (m.sessions.length > 0) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const res = await ownerConn(m, r).request("sessions.list", {});
      if (!res?.ok) fail(r, "the owner could not list sessions", res?.error);
      const listed = (res.payload as { sessions: Array<{ id: string; status: string }> }).sessions;
      const wrong = m.sessions.filter((s) => {
        const got = listed.find((x) => x.id === s.id);
        return got === undefined || (got.status === "running") !== s.alive;
      });
      if (wrong.length === 0) break;
      // An ended session may take a moment to be reaped; a running one may never be missing.
      const early = wrong.filter((s) => s.alive);
      if (early.length > 0 || Date.now() > deadline)
        fail(
          r,
          `sessions not in the state the model says: ${wrong.map((s) => `${s.id} (model alive=${s.alive})`).join(", ")}`,
          listed,
        );
      await new Promise((res) => setTimeout(res, 50));
    }
    const dead = m.sessions.filter((s) => !s.alive).at(-1);
    const token = dead && r.runtimeTokens.get(dead.id);
    if (token) {
      r.coverage.probes++;
      const auth = { agentRuntimeIdentityToken: token } as ConnectOptions["auth"];
      const { res, conn } = await connect(r.gw.url, {
        auth,
        clientId: "gateway-client",
        mode: "backend",
        scopes: [],
      });
      conn.close();
      if (res.ok) fail(r, `the runtime token of ended session ${dead.id} admitted`, res.payload);
    }
  }
  if (m.jobs.length > 0) {
    const res = await ownerConn(m, r).request("cron.list", {});
    if (!res?.ok) fail(r, "the owner could not list cron jobs", res?.error);
    const listed = (res.payload as { jobs: Array<{ id: string; enabled: boolean }> }).jobs;
    for (const j of m.jobs) {
      const got = listed.find((x) => x.id === j.id);
      if (!got) fail(r, `cron job ${j.id} is gone`);
      if (got.enabled !== j.enabled)
        fail(r, `cron job ${j.id} enabled=${got.enabled}, the model's ${j.enabled}`, got);
    }
  }
}

async function probeTokens(m: Model, r: Real): Promise<void> {
  for (let i = 0; i < DEVICES; i++) {
    const d = m.devices[i]!;
    const identity = r.identities[i]!;
    const token = r.tokens[i];
    if (d.tokenKnown && token) {
      const live = d.paired && d.slot !== null && !d.slot.revoked;
      if (!live) fail(r, `model: device ${i}'s known token rests on no live slot`);
      const scopes = d.slot!.scopes;
      r.coverage.probes++;
      const { res, conn } = await connect(r.gw.url, { identity, auth: { deviceToken: token }, scopes });
      conn.close();
      if (!res.ok) fail(r, `device ${i}'s current token asking [${scopes.join(",")}] was refused`, res.error);
      if (!sameSet(helloAuth(res).scopes, scopes))
        fail(
          r,
          `device ${i}'s token session holds [${helloAuth(res).scopes.join(",")}], not [${scopes.join(",")}]`,
        );
    }
    const dead = r.stale[i]!.at(-1);
    if (dead) {
      r.coverage.probes++;
      const { res, conn } = await connect(r.gw.url, { identity, auth: { deviceToken: dead }, scopes: [] });
      conn.close();
      if (res.ok) fail(r, `a revoked, rotated or replaced token of device ${i} admitted`, res.payload);
      if (res.error?.details?.code === "PAIRING_REQUIRED")
        fail(r, `a dead token of device ${i} opened a pairing request`, res.error);
    }
  }
}

/** The gateway's device list, pending requests and token slots equal the model's. */
async function compareList(m: Model, r: Real): Promise<void> {
  const res: Frame | null = await ownerConn(m, r).request("device.pair.list", {});
  if (!res?.ok) fail(r, "the owner could not list devices", res?.error);
  const list = res.payload as unknown as PairList;
  const paired = list.paired.filter((p) => !p.owner);
  for (let i = 0; i < DEVICES; i++) {
    const d = m.devices[i]!;
    const id = r.identities[i]!.deviceId;
    const got = paired.find((p) => p.deviceId === id);
    if (d.paired !== (got !== undefined))
      fail(r, `device ${i} is ${got ? "" : "not "}paired on the gateway; the model says the opposite`, got);
    if (got) {
      if (!sameSet(got.scopes, d.scopes))
        fail(r, `device ${i}'s baseline is [${got.scopes.join(",")}], the model's [${d.scopes.join(",")}]`);
      if ((got.label ?? null) !== d.label)
        fail(
          r,
          `device ${i}'s label is ${JSON.stringify(got.label)}, the model's ${JSON.stringify(d.label)}`,
        );
      const tok = got.tokens.find((t) => t.role === "operator");
      if ((tok !== undefined) !== (d.slot !== null))
        fail(
          r,
          `device ${i}'s operator token row ${tok ? "exists" : "is missing"}; model slot ${JSON.stringify(d.slot)}`,
          got.tokens,
        );
      if (tok && d.slot) {
        const revoked = tok.revokedAtMs !== null && tok.revokedAtMs !== undefined;
        if (revoked !== d.slot.revoked)
          fail(r, `device ${i}'s operator token revoked=${revoked}, the model's ${d.slot.revoked}`, tok);
        if (!revoked && !sameSet(tok.scopes, d.slot.scopes))
          fail(
            r,
            `device ${i}'s token carries [${tok.scopes.join(",")}], the model's [${d.slot.scopes.join(",")}]`,
          );
        if (!revoked && !coversAll(d.scopes, tok.scopes))
          fail(r, `device ${i}'s token carries more than its baseline`, tok);
      }
    }
    const pend = list.pending.filter((p) => p.deviceId === id);
    if (pend.length > 1) fail(r, `device ${i} has ${pend.length} pending requests`, pend);
    const p = pend[0];
    if ((p !== undefined) !== (d.pending !== null))
      fail(r, `device ${i} ${p ? "has" : "has no"} pending request; model ${JSON.stringify(d.pending)}`, p);
    if (p && d.pending) {
      if (p.requestId !== d.pending.requestId)
        fail(r, `device ${i}'s pending request is ${p.requestId}, the model's ${d.pending.requestId}`);
      if (!sameSet(p.scopes, d.pending.scopes))
        fail(
          r,
          `device ${i}'s pending request asks [${p.scopes.join(",")}], the model's [${d.pending.scopes.join(",")}]`,
        );
    }
  }
  const known = new Set([...r.identities.map((i) => i.deviceId), r.nodeIdentity.deviceId]);
  const stray = paired.filter((p) => !known.has(p.deviceId));
  if (stray.length > 0) fail(r, "devices the sequence never made are paired", stray);
  await compareNode(m, r, list);
}

/**
 * The node host: its record, node-role token row and pending request are the model's; its current
 * token admits and a dead one never does; and the gateway's node list shows it exactly while a
 * session of it is open, exposing what its newest session declared within the approved surface.
 */
async function compareNode(m: Model, r: Real, list: PairList): Promise<void> {
  const n = m.node;
  const id = r.nodeIdentity.deviceId;
  const got = list.paired.find((p) => p.deviceId === id);
  if (n.paired !== (got !== undefined))
    fail(r, `the node is ${got ? "" : "not "}paired on the gateway; the model says the opposite`, got);
  if (got) {
    if (!sameSet(got.roles, ["node"])) fail(r, `the node holds the roles [${got.roles.join(",")}]`, got);
    const row = got.tokens.find((t) => t.role === "node");
    if ((row !== undefined) !== (n.slot !== null))
      fail(
        r,
        `the node's token row ${row ? "exists" : "is missing"}; model ${JSON.stringify(n.slot)}`,
        got.tokens,
      );
    const revoked = row !== undefined && row.revokedAtMs !== null && row.revokedAtMs !== undefined;
    if (row && n.slot && revoked !== n.slot.revoked)
      fail(r, `the node's token revoked=${revoked}, the model's ${n.slot.revoked}`, row);
  }
  const pend = list.pending.filter((p) => p.deviceId === id);
  if ((pend[0] !== undefined) !== (n.pending !== null) || pend.length > 1)
    fail(r, `the node has ${pend.length} pending requests; model ${JSON.stringify(n.pending)}`, pend);
  if (pend[0] && n.pending && pend[0].requestId !== n.pending.requestId)
    fail(r, `the node's pending request is ${pend[0].requestId}, the model's ${n.pending.requestId}`);

  const surfaces = await ownerConn(m, r).request("node.pair.list", {});
  if (!surfaces?.ok) fail(r, "the owner could not list node surfaces", surfaces?.error);
  const { pending, paired } = surfaces.payload as {
    pending: Array<{ nodeId: string; commands: string[] }>;
    paired: Array<{ nodeId: string; commands: string[] }>;
  };
  const asked = pending.filter((p) => p.nodeId === id).map((p) => set(p.commands));
  if (JSON.stringify(asked) !== JSON.stringify(n.surfaceRequest ? [n.surfaceRequest] : []))
    fail(
      r,
      `the node's surface requests are ${JSON.stringify(asked)}; model ${JSON.stringify(n.surfaceRequest)}`,
    );
  const pinned = paired.filter((p) => p.nodeId === id).map((p) => set(p.commands));
  if (JSON.stringify(pinned) !== JSON.stringify(n.surface ? [n.surface] : []))
    fail(r, `the node's approved surface is ${JSON.stringify(pinned)}; model ${JSON.stringify(n.surface)}`);

  // After the surfaces are compared: a probe's connect settles or refreshes the node's request.
  const probe = async (token: string) => {
    r.coverage.probes++;
    // It declares what the node last asked for, so that it settles no request the model keeps.
    const declared = n.surfaceRequest ?? n.surface ?? [];
    const { res, conn } = await connect(r.gw.url, nodeConnect(r, { deviceToken: token }, declared));
    conn.close();
    // Its session must be gone before the node list is read: it would be the node's newest.
    await conn.closedWithin(5000);
    return res;
  };
  if (n.tokenKnown && r.nodeToken) {
    const res = await probe(r.nodeToken);
    if (!res.ok) fail(r, "the node's current token was refused", res.error);
  }
  const dead = r.nodeStale.at(-1);
  if (dead) {
    const res = await probe(dead);
    if (res.ok) fail(r, "a revoked or replaced token of the node admitted", res.payload);
    if (res.error?.details?.code === "PAIRING_REQUIRED")
      fail(r, "a dead node token opened a request", res.error);
  }

  const sessions = m.conns.filter((c) => c.who === "node" && c.alive);
  const newest = sessions.at(-1);
  const want = newest ? [exposedBy(n, newest.declared ?? [])] : [];
  // A node session the test closed a moment ago may still be leaving the gateway's registry.
  const deadline = Date.now() + 3000;
  for (;;) {
    const res = await ownerConn(m, r).request("node.list", {});
    if (!res?.ok) fail(r, "the owner could not list nodes", res?.error);
    const nodes = (res.payload as { nodes: Array<{ nodeId: string; commands: string[] }> }).nodes;
    const shown = nodes.filter((x) => x.nodeId === id).map((x) => set(x.commands));
    if (JSON.stringify(shown) === JSON.stringify(want)) break;
    if (Date.now() > deadline)
      fail(
        r,
        `the node list shows the node exposing ${JSON.stringify(shown)}; the model ${JSON.stringify(want)}`,
      );
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** The node host's connect: its key, role node, the commands it declares. */
export function nodeConnect(
  r: Real,
  auth: ConnectOptions["auth"],
  declared: readonly string[],
): ConnectOptions {
  return {
    identity: r.nodeIdentity,
    role: "node",
    clientId: "node-host",
    mode: "node",
    scopes: [],
    auth,
    extra: { commands: [...declared] },
  };
}
