/**
 * The reference model the model-based tests hold the gateway to: a small, independent statement of
 * issue 11's rules, README's and SECURITY.md's "authority chain", written from those documents
 * rather than from src/policy. Pure: state in, expectation out; the commands apply the effects.
 */

export const ADMIN = "operator.admin";
export const READ = "operator.read";
export const WRITE = "operator.write";
export const PAIRING = "operator.pairing";
export const APPROVALS = "operator.approvals";

/** How long a pairing request stays pending (README: `pairing.pendingTtlMs`, default 10 minutes). */
export const PENDING_TTL_MS = 10 * 60_000;
/** How long a setup code minted without a ttl lives (README: `pair code --ttl`, default 10 minutes). */
export const SETUP_CODE_TTL_MS = 10 * 60_000;

/** The operator scopes the generated sequences ask for and grant. */
export const SCOPES: readonly string[] = [ADMIN, READ, WRITE, PAIRING, APPROVALS];

/** Sorted set. */
export const set = (...xs: ReadonlyArray<readonly string[]>): string[] => [...new Set(xs.flat())].sort();

/** The lattice: admin covers every operator scope, write covers read. */
export function covers(granted: readonly string[], scope: string): boolean {
  if (granted.includes(scope)) return true;
  if (granted.includes(ADMIN) && scope.startsWith("operator.")) return true;
  return scope === READ && granted.includes(WRITE);
}

export const coversAll = (granted: readonly string[], wanted: readonly string[]): boolean =>
  wanted.every((s) => covers(granted, s));

/** The operator token slot of a device, as the store holds it. */
export interface Slot {
  revoked: boolean;
  scopes: string[];
}

/** One device of the generated sequences (the owner device is not one of them). */
export interface DeviceModel {
  paired: boolean;
  /** Approved baseline. */
  scopes: string[];
  /** Null: no token row (never minted, or deleted by an approval or a removal). */
  slot: Slot | null;
  /** `ageMs`: how far the gateway's clock was moved since it was opened or last refreshed. */
  pending: { requestId: string; scopes: string[]; ageMs: number } | null;
  /** The request id the device was last given (approving it after it was resolved must fail). */
  lastRequestId: string | null;
  /** The test holds the current token (a cross-device rotation withholds it from the rotator). */
  tokenKnown: boolean;
  /** The test holds tokens that were revoked, rotated away or replaced: none may ever admit again. */
  hasStaleToken: boolean;
  /** The owner-set label (device.pair.rename); a removal forgets it with the record. */
  label: string | null;
}

/** How a connection proved itself, as the management rules care. */
export type Proof = "owner-key" | "shared-secret" | "device-token" | "runtime-token";

/** A live connection the test holds, as the model sees it. */
export interface ConnModel {
  id: number;
  /**
   * "owner": the owner key; "cli": the device-less shared secret on the host; a device index; the
   * node host (role node); or the runtime token of a session.
   */
  who: "owner" | "cli" | "node" | number | { session: string };
  /** A node session: the commands it declared on its connect. */
  declared?: string[];
  proof: Proof;
  scopes: string[];
  alive: boolean;
  /**
   * It came through a proxy (forwarding headers from a peer that is no trusted proxy): not
   * direct-local, so no exemption of the owner on the host applies to it.
   */
  remote?: boolean;
}

export type Profile = "operator-limited" | "operator-full" | "node";

/** A setup code the sequence minted. */
export interface CodeModel {
  code: string;
  profile: Profile;
  /**
   * Whose authority it rests on: a model device, a root (owner key, host CLI), or the session that
   * minted it (which rests on its own authority, and ends).
   */
  minter: number | "root" | { session: string };
  state: "live" | "spent" | "revoked" | "expired";
  spentBy: number | null;
  /** How far the gateway's clock was moved since it was minted. */
  ageMs: number;
}

/** The authority work rests on: a model device, or a root no revocation reaches (owner key, host CLI). */
export type Authority = number | "root";

/** A session (sub-agent) the sequence spawned; it holds its runtime token until it ends. */
export interface SessionModel {
  id: string;
  scopes: string[];
  authority: Authority;
  parent: string | null;
  alive: boolean;
  /** The file whose creation makes the child exit 0. */
  go: string;
}

/** A cron job the sequence added. */
export interface JobModel {
  id: string;
  scopes: string[];
  authority: Authority;
  enabled: boolean;
}

export interface Model {
  /** How often the sequence moved the gateway's clock (runtime tokens outlive a few moves only). */
  clockMoves: number;
  devices: DeviceModel[];
  node: NodeModel;
  conns: ConnModel[];
  nextConnId: number;
  codes: CodeModel[];
  sessions: SessionModel[];
  jobs: JobModel[];
}

/** The authority a caller's new work rests on: its device, its session's, or a root. */
export function authorityOf(m: Model, c: Caller): Authority {
  const who = c.conn.who;
  if (typeof who === "object") return m.sessions.find((s) => s.id === who.session)?.authority ?? "root";
  return c.device ?? "root";
}

/** Does the authority still stand, for work carrying `scopes`? */
export function authorityHolds(m: Model, a: Authority, scopes: readonly string[]): boolean {
  if (a === "root") return true;
  const d = m.devices[a]!;
  return d.paired && !d.slot?.revoked && coversAll(d.scopes, scopes);
}

/** May `c` spawn a session (or add a cron job) carrying `scopes`? Exec on the host is admin. */
export function mayStartWork(c: Caller, scopes: readonly string[]): Verdict {
  if (!covers(c.scopes, ADMIN)) return no("sessions and cron jobs need operator.admin");
  if (!coversAll(c.scopes, scopes)) return no("work carries at most its creator's scopes");
  return yes;
}

/** Describes a connection for failure messages. */
export function whoName(who: ConnModel["who"]): string {
  return typeof who === "object" ? `session ${who.session}` : typeof who === "number" ? `d${who}` : who;
}

/** What a profile pre-approves. */
export function profileScopes(p: Profile): { roles: string[]; scopes: string[] } {
  switch (p) {
    case "operator-limited":
      return { roles: ["operator"], scopes: set([APPROVALS, READ, WRITE]) };
    case "operator-full":
      return { roles: ["operator"], scopes: set([...SCOPES, "operator.talk.secrets"]) };
    case "node":
      return { roles: ["node"], scopes: [] };
  }
}

/** May `c` mint a code of `profile`? A code grants at most what its minter holds. */
export function mayMint(c: Caller, profile: Profile): Verdict {
  if (!covers(c.scopes, PAIRING)) return no("the method needs operator.pairing");
  const need = profile === "operator-limited" ? profileScopes(profile).scopes : [ADMIN];
  return coversAll(c.scopes, need) ? yes : no(`minting ${profile} needs [${need.join(",")}]`);
}

/** What a device presenting `code` (and nothing else) asking `scopes` as an operator must get. */
export type RedeemExpectation =
  | { kind: "refuse"; why: string }
  | { kind: "admit"; baseline: string[]; tokenScopes: string[] }
  | { kind: "pend"; scopes: string[]; sameRequest: string | null };

export function expectRedeem(d: DeviceModel, code: CodeModel, scopes: readonly string[]): RedeemExpectation {
  if (code.state !== "live") return { kind: "refuse", why: `the code is ${code.state}` };
  const grant = profileScopes(code.profile);
  if (!grant.roles.includes("operator")) return { kind: "refuse", why: "the code's role is not operator" };
  if (!coversAll(grant.scopes, scopes))
    return { kind: "refuse", why: "the request exceeds the code's profile" };
  if (d.paired && d.slot?.revoked) {
    // Only an approval revives a revoked slot; the code may still open the request for one.
    const asked = set(d.scopes, d.pending?.scopes ?? [], scopes);
    const same = d.pending && sameSet(d.pending.scopes, asked) ? d.pending.requestId : null;
    return { kind: "pend", scopes: asked, sameRequest: same };
  }
  return { kind: "admit", baseline: set(d.paired ? d.scopes : [], grant.scopes), tokenScopes: grant.scopes };
}

export function newDevice(): DeviceModel {
  return {
    paired: false,
    scopes: [],
    slot: null,
    pending: null,
    lastRequestId: null,
    tokenKnown: false,
    hasStaleToken: false,
    label: null,
  };
}

/** A management caller: who, how proved, what its session holds, and whether it is on the host. */
export interface Caller {
  conn: ConnModel;
  device: number | null;
  proof: Proof;
  scopes: readonly string[];
  onHost: boolean;
}

export function callerOf(conn: ConnModel): Caller {
  return {
    conn,
    device: typeof conn.who === "number" ? conn.who : null,
    proof: conn.proof,
    scopes: conn.scopes,
    onHost: conn.remote !== true,
  };
}

/**
 * The caller a command's `pick` names among the live sessions: a negative pick is the owner's own
 * session on the gateway host (the onboarding macros' approver), any other one picks in turn.
 */
export function pickCaller(m: Model, pick: number): Caller {
  const alive = m.conns.filter((c) => c.alive);
  if (pick < 0) return callerOf(alive.find((c) => c.who === "owner" && !c.remote)!);
  return callerOf(alive[pick % alive.length]!);
}

/** A step's caller as a failure names it: its connection, who it is, its proof and its scopes. */
export function callerText(caller: Caller): string {
  return `conn ${caller.conn.id} (${whoName(caller.conn.who)}, ${caller.proof}, [${caller.scopes.join(",")}])`;
}

/**
 * The owner on the gateway host: the owner key, or the shared secret without a device — direct-local
 * only. The owner key from elsewhere is an admin like any other (it still alone touches the owner
 * device); the shared secret from elsewhere without a device holds no scopes at all.
 */
const ownerOnHost = (c: Caller) =>
  c.onHost && (c.proof === "owner-key" || (c.proof === "shared-secret" && c.device === null));

/** The target of a management action: a model device, or the owner device. */
export type Target = number | "owner";

export type Verdict = { allow: true } | { allow: false; why: string };
const no = (why: string): Verdict => ({ allow: false, why });
const yes: Verdict = { allow: true };

/**
 * The rights shared by every device.* management method: the method needs operator.pairing, and a
 * session proved by a device token without operator.admin acts on its own device only.
 */
function entry(c: Caller, target: Target | "node"): Verdict | null {
  if (!covers(c.scopes, PAIRING)) return no("the method needs operator.pairing");
  if (c.proof === "device-token" && !covers(c.scopes, ADMIN) && target !== c.device)
    return no("a token session without admin manages its own device only");
  return null;
}

/** Taking away from `t` (remove, revoke, another device's rotation): the caller covers what it holds. */
function coversTarget(c: Caller, d: DeviceModel): Verdict {
  if (ownerOnHost(c)) return yes;
  return coversAll(c.scopes, set(d.scopes, d.slot?.scopes ?? []))
    ? yes
    : no("the caller does not cover the device's baseline and token");
}

/** May `c` approve device `t`'s pending request? */
export function mayApprove(m: Model, c: Caller, t: number): Verdict {
  const d = m.devices[t]!;
  const denied = entry(c, t);
  if (denied) return denied;
  if (c.device === t) return no("no device approves its own request");
  if (!d.pending) return no("no such request");
  if (!coversAll(c.scopes, d.pending.scopes)) return no("an approval grants at most the approver's scopes");
  if (d.paired && d.slot?.revoked && !coversAll(c.scopes, d.scopes))
    return no("reviving a revoked role needs covering its baseline");
  return yes;
}

export function mayReject(m: Model, c: Caller, t: number): Verdict {
  const denied = entry(c, t);
  if (denied) return denied;
  if (!m.devices[t]!.pending) return no("no such request");
  return yes;
}

export function mayRemove(m: Model, c: Caller, t: Target): Verdict {
  const denied = entry(c, t);
  if (denied) return denied;
  if (t === "owner") return no("the owner device is never removed");
  const d = m.devices[t]!;
  if (!d.paired) return no("unknown device");
  if (c.device === t) return yes;
  return coversTarget(c, d);
}

export function mayRevoke(m: Model, c: Caller, t: Target): Verdict {
  const denied = entry(c, t);
  if (denied) return denied;
  if (t === "owner") return no("the owner's roles are never revoked");
  const d = m.devices[t]!;
  if (!d.paired) return no("unknown device");
  if (c.device === t) return yes;
  return coversTarget(c, d);
}

/**
 * May `c` rename `t` (device.pair.rename, or node.rename for a device with the node role)? A label
 * grants nothing, so no covering is needed; but only the owner key touches the owner device, and a
 * node's row needs admin unless the owner on the host asks.
 */
export function mayRename(m: Model, c: Caller, t: Target, node: boolean): Verdict {
  const denied = entry(c, t);
  if (denied) return denied;
  // The owner device holds the node role too; the model's devices hold only the operator role.
  if (node && t !== "owner") return no("node.rename names only devices with the node role");
  if (t === "owner") return c.proof === "owner-key" ? yes : no("only the owner key touches the owner device");
  if (!m.devices[t]!.paired) return no("unknown device");
  return yes;
}

/** May `c` rotate `t`'s operator token to `scopes` (absent: keep the token's scopes)? With the new scopes. */
export function mayRotate(
  m: Model,
  c: Caller,
  t: Target,
  scopes: readonly string[] | undefined,
): Verdict & { scopes?: string[] } {
  const denied = entry(c, t);
  if (denied) return denied;
  if (t === "owner") {
    if (c.proof !== "owner-key") return no("only the owner key touches the owner device");
    // Its baseline is every operator scope, which only admin covers; and a grant is bounded by the session.
    return coversAll(c.scopes, scopes ?? [ADMIN]) ? yes : no("a rotation grants at most the caller's scopes");
  }
  const d = m.devices[t]!;
  if (!d.paired) return no("unknown device");
  if (d.slot?.revoked) return no("a revoked slot comes back only through an approval");
  const next = set(scopes ?? d.slot?.scopes ?? d.scopes);
  if (!coversAll(d.scopes, next)) return no("a token carries at most the device's baseline");
  if (c.device !== t) {
    const taking = coversTarget(c, d);
    if (!taking.allow) return taking;
  }
  if (!coversAll(c.scopes, next)) return no("a rotation grants at most the caller's scopes");
  return { allow: true, scopes: next };
}

/** What a device's connect with the shared secret (and its key) asking `scopes` must get. */
export type SharedConnectExpectation =
  { kind: "admit"; tokenScopes: string[] } | { kind: "pend"; scopes: string[]; sameRequest: string | null };

export function expectSharedConnect(d: DeviceModel, scopes: readonly string[]): SharedConnectExpectation {
  if (d.paired && !d.slot?.revoked && coversAll(d.scopes, scopes)) {
    return { kind: "admit", tokenScopes: [...d.scopes] };
  }
  const asked = set(d.paired ? d.scopes : [], d.pending?.scopes ?? [], scopes);
  const same = d.pending && sameSet(d.pending.scopes, asked) ? d.pending.requestId : null;
  return { kind: "pend", scopes: asked, sameRequest: same };
}

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = set(a);
  const y = set(b);
  return x.length === y.length && x.every((s, i) => s === y[i]);
}

/** A session ends (exit, kill, its authority's end): so do the sessions it spawned and every connection of theirs. */
export function endSession(m: Model, id: string): void {
  const s = m.sessions.find((x) => x.id === id);
  if (!s || !s.alive) return;
  s.alive = false;
  for (const c of m.conns) if (typeof c.who === "object" && c.who.session === id) c.alive = false;
  for (const code of m.codes)
    if (typeof code.minter === "object" && code.minter.session === id && code.state === "live")
      code.state = "revoked";
  for (const child of m.sessions.filter((x) => x.parent === id)) endSession(m, child.id);
}

/**
 * Device `t`'s authority ended (its operator role revoked, or it was removed): its connections
 * close, and what rests on it ends — its sessions (and theirs), the setup codes it minted that are
 * still live, its cron jobs (disabled).
 */
export function endAuthority(m: Model, t: number): void {
  for (const c of m.conns) if (c.who === t) c.alive = false;
  for (const code of m.codes) if (code.minter === t && code.state === "live") code.state = "revoked";
  for (const s of m.sessions) if (s.authority === t) endSession(m, s.id);
  for (const j of m.jobs) if (j.authority === t) j.enabled = false;
}

/**
 * The gateway's clock moved `ms` forward: a pending request expires once it has waited its time
 * since it was opened or last refreshed (a retry of the same ask refreshes it), and a setup code
 * nobody redeemed once it has lived its time. Neither comes back; the device asks anew.
 */
export function advanceClock(m: Model, ms: number): { requests: number; codes: number } {
  m.clockMoves++;
  let requests = 0;
  let codes = 0;
  for (const d of [...m.devices, m.node]) {
    if (!d.pending) continue;
    d.pending.ageMs += ms;
    if (d.pending.ageMs >= PENDING_TTL_MS) {
      d.pending = null;
      requests++;
    }
  }
  for (const c of m.codes) {
    c.ageMs += ms;
    if (c.state === "live" && c.ageMs >= SETUP_CODE_TTL_MS) {
      c.state = "expired";
      codes++;
    }
  }
  return { requests, codes };
}

/** The commands the node host declares: a camera only, or a camera and exec (system.run). */
export const NODE_COMMANDS = { camera: ["camera.snap"], exec: ["camera.snap", "system.run"] } as const;

/**
 * The node host of the sequences: its own key, the node role only. Pairing it is a device
 * approval for the node role (operator.admin), which pins the commands its request declared as
 * its command surface; a session exposes what it declares within that surface, and nothing once
 * the role is revoked or the device removed.
 */
export interface NodeModel {
  paired: boolean;
  /** The node-role token row; null: none minted since it was approved. */
  slot: { revoked: boolean } | null;
  pending: { requestId: string; commands: string[]; ageMs: number } | null;
  lastRequestId: string | null;
  /** The approved command surface; null: none (never approved, or its role revoked). */
  surface: string[] | null;
  /** The wider surface a session declared, waiting for approval (node.pair.*); it never expires. */
  surfaceRequest: string[] | null;
  tokenKnown: boolean;
}

export function newNode(): NodeModel {
  return {
    paired: false,
    slot: null,
    pending: null,
    lastRequestId: null,
    surface: null,
    surfaceRequest: null,
    tokenKnown: false,
  };
}

/**
 * An admitted node session declaring `declared`: within the surface it settles any wider request
 * (there is nothing left to approve); beyond it, it asks for exactly what it declares.
 */
export function nodeDeclares(n: NodeModel, declared: readonly string[]): void {
  const within = declared.every((c) => (n.surface ?? []).includes(c));
  n.surfaceRequest = within ? null : set(declared);
}

/**
 * May `c` approve the node's wider surface (OpenClaw's requiredApproveScopes)? operator.pairing
 * with operator.write, or operator.admin when an exec-capable command (system.run) is in it.
 */
export function mayApproveSurface(m: Model, c: Caller): Verdict {
  const asked = m.node.surfaceRequest;
  if (!covers(c.scopes, PAIRING)) return no("the method needs operator.pairing");
  if (!asked) return no("no such request");
  const need = asked.includes("system.run") ? [PAIRING, ADMIN] : [PAIRING, WRITE];
  return coversAll(c.scopes, need) ? yes : no(`approving [${asked.join(",")}] needs [${need.join(",")}]`);
}

/** What the node's connect declaring `declared` must get (with the shared secret, or its token). */
export type NodeConnectExpectation =
  { kind: "admit"; exposes: string[] } | { kind: "pend"; sameRequest: string | null };

export function expectNodeConnect(n: NodeModel, declared: readonly string[]): NodeConnectExpectation {
  if (n.paired && !n.slot?.revoked) return { kind: "admit", exposes: exposedBy(n, declared) };
  const same = n.pending && sameSet(n.pending.commands, declared) ? n.pending.requestId : null;
  return { kind: "pend", sameRequest: same };
}

/** What a node session declaring `declared` exposes: only what the approved surface holds. */
export function exposedBy(n: NodeModel, declared: readonly string[]): string[] {
  return set(declared.filter((c) => (n.surface ?? []).includes(c)));
}

/** May `c` approve the node's pending request? The node role is granted by operator.admin only. */
export function mayApproveNode(m: Model, c: Caller): Verdict {
  const denied = entry(c, "node");
  if (denied) return denied;
  if (!m.node.pending) return no("no such request");
  return covers(c.scopes, ADMIN) ? yes : no("the node role is granted by operator.admin only");
}

/**
 * May `c` revoke the node role, or remove the node device? Taking the node role away needs
 * operator.admin, except for the owner on the host, who takes anything away.
 */
export function mayEndNode(m: Model, c: Caller): Verdict {
  const denied = entry(c, "node");
  if (denied) return denied;
  if (!m.node.paired) return no("unknown device");
  if (ownerOnHost(c)) return yes;
  return covers(c.scopes, ADMIN) ? yes : no("taking the node role away needs operator.admin");
}

/** The node's authority ended (its role revoked, or it was removed): its sessions close. */
export function endNode(m: Model): void {
  for (const c of m.conns) if (c.who === "node") c.alive = false;
}
