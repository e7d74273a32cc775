/**
 * Shared by the hardening tests: fast/stress sizes, outcome tallies, a forced GC, a log recorder,
 * a bare socket that sends anything (text, raw bytes, binary) and reports how the gateway answered,
 * and a snapshot of the pairing store's rights-bearing rows.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { WebSocket } from "ws";
import type { GatewayLogger, LogFields, LogLevel } from "../../src/gateway/log.js";
import { CLOSE_CODES, ERROR_TABLE, type GatewayErrorCode } from "../../src/protocol/errors.js";
import type { Store } from "../../src/store/db.js";

/** `GATEHOUSE_STRESS=1` (npm run test:stress) selects the long variants. */
export const STRESS = process.env.GATEHOUSE_STRESS === "1";

/** The fast size by default, the stress size under GATEHOUSE_STRESS=1. */
export function size(fast: number, stress: number): number {
  return STRESS ? stress : fast;
}

/** Counts outcomes by label, for `t.diagnostic`. */
export class Tally {
  readonly counts = new Map<string, number>();
  total = 0;

  add(label: string): void {
    this.total++;
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }

  get(label: string): number {
    return this.counts.get(label) ?? 0;
  }

  /** `total N: a=3, b=2`, most frequent first. */
  toString(): string {
    const parts = [...this.counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    return `total ${this.total}: ${parts.map(([k, n]) => `${k}=${n}`).join(", ")}`;
  }
}

let gcFn: (() => void) | null = null;

/** Runs a full garbage collection (exposes `gc` on first use; the test runner has no --expose-gc). */
export function collectGarbage(): void {
  if (!gcFn) {
    setFlagsFromString("--expose_gc");
    gcFn = runInNewContext("gc") as () => void;
  }
  gcFn();
  gcFn();
}

/** Heap in use after a full GC, in bytes. */
export function settledHeap(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

export interface LogEvent {
  level: LogLevel;
  event: string;
  fields: LogFields;
}

/** A gateway logger that keeps every event for assertions. */
export function recordingLogger(): GatewayLogger & { events: LogEvent[]; count(event: string): number } {
  const events: LogEvent[] = [];
  return {
    events,
    log(level, event, fields = {}) {
      events.push({ level, event, fields });
    },
    count(event) {
      return events.filter((e) => e.event === event).length;
    },
  };
}

/** A frame as the gateway sends it (loosely typed: tests look at what arrived). */
export interface WireFrame {
  type?: string;
  id?: string;
  ok?: boolean;
  event?: string;
  payload?: Record<string, unknown>;
  error?: { code: string; message: string; details?: Record<string, unknown>; retryable?: boolean };
  seq?: number;
}

/** What a single exchange produced: the response (if any), everything else, and the close. */
export interface Outcome {
  res: WireFrame | null;
  frames: WireFrame[];
  close: { code: number; reason: string } | null;
  /** Nothing came back within the time limit (neither a response nor a close). */
  timedOut: boolean;
}

/** A socket that has received its `connect.challenge`. */
export interface BarePeer {
  ws: WebSocket;
  challenge: { nonce: string; ts: number };
  /** Frames received after the challenge, in order. */
  frames: WireFrame[];
  closed: Promise<{ code: number; reason: string }>;
  isClosed(): boolean;
  /** Resolves with the first frame matching `pred` (already received or later), or null on close/timeout. */
  waitFor(pred: (f: WireFrame) => boolean, timeoutMs?: number): Promise<WireFrame | null>;
}

/** Opens a socket and waits for the challenge. */
export function openBare(url: string): Promise<BarePeer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    const frames: WireFrame[] = [];
    const listeners = new Set<() => void>();
    let challenge: { nonce: string; ts: number } | null = null;
    let closedFlag = false;
    const closed = new Promise<{ code: number; reason: string }>((res) =>
      ws.on("close", (code, reason) => {
        closedFlag = true;
        if (!challenge) reject(new Error(`closed (${code}) before the challenge`));
        res({ code, reason: reason.toString() });
        for (const l of [...listeners]) l();
      }),
    );
    ws.on("error", (err) => {
      if (!challenge) reject(err);
    });
    ws.on("message", (data) => {
      let f: WireFrame;
      try {
        f = JSON.parse(data.toString()) as WireFrame;
      } catch {
        f = { type: "unparseable" };
      }
      if (!challenge) {
        if (f.event !== "connect.challenge" || typeof f.payload?.nonce !== "string") {
          reject(new Error(`expected connect.challenge first, got ${data.toString().slice(0, 200)}`));
          return;
        }
        challenge = { nonce: f.payload.nonce, ts: Number(f.payload.ts) };
        resolve(peer);
        return;
      }
      frames.push(f);
      for (const l of [...listeners]) l();
    });
    const peer: BarePeer = {
      ws,
      get challenge() {
        return challenge!;
      },
      frames,
      closed,
      isClosed: () => closedFlag,
      waitFor(pred, timeoutMs = 10_000) {
        return new Promise((res) => {
          let seen = 0;
          const check = () => {
            for (; seen < frames.length; seen++) {
              if (pred(frames[seen]!)) return done(frames[seen]!);
            }
            if (closedFlag) done(null);
          };
          const timer = setTimeout(() => done(null), timeoutMs);
          const done = (f: WireFrame | null) => {
            clearTimeout(timer);
            listeners.delete(check);
            res(f);
          };
          listeners.add(check);
          check();
        });
      },
    };
  });
}

/**
 * Sends one first frame (whatever `send` writes) and waits for the gateway's verdict: a response
 * followed by a close, a close alone, or an admission (then this side closes).
 */
export async function firstFrameOutcome(
  url: string,
  send: (peer: BarePeer) => void,
  timeoutMs = 10_000,
): Promise<Outcome & { peer: BarePeer }> {
  const peer = await openBare(url);
  send(peer);
  const res = await peer.waitFor((f) => f.type === "res", timeoutMs);
  let close: { code: number; reason: string } | null = null;
  let timedOut = false;
  if (res?.ok === true) {
    peer.ws.close();
  } else {
    close = await Promise.race([
      peer.closed,
      new Promise<null>((r) => setTimeout(() => r(null), timeoutMs).unref()),
    ]);
    if (!close) {
      timedOut = true;
      peer.ws.terminate();
    }
  }
  return { peer, res, frames: [...peer.frames], close, timedOut };
}

/** Sends a request on an admitted peer and waits for its response (null when the socket closed). */
export async function request(
  peer: BarePeer,
  id: string,
  method: string,
  params?: unknown,
  timeoutMs = 15_000,
): Promise<WireFrame | null> {
  const frame = { type: "req", id, method, ...(params !== undefined ? { params } : {}) };
  peer.ws.send(JSON.stringify(frame));
  return peer.waitFor((f) => f.type === "res" && f.id === id, timeoutMs);
}

/** Every error code of the table, and the close code each one is followed by (null: stays open). */
export const TABLE_CODES = new Set(Object.keys(ERROR_TABLE));

/**
 * Problems with an error response, checked against the one error table: a known `details.code`,
 * the wire code its row names, a message. Empty when it is well-formed.
 */
export function errorShapeProblems(res: WireFrame): string[] {
  const problems: string[] = [];
  if (res.ok !== false) problems.push(`ok is ${String(res.ok)}`);
  const err = res.error;
  if (!err) return [...problems, "no error object"];
  const code = err.details?.code;
  if (typeof code !== "string" || !TABLE_CODES.has(code)) {
    problems.push(`details.code ${JSON.stringify(code)} is not in ERROR_TABLE`);
  } else if (ERROR_TABLE[code as GatewayErrorCode].wire !== err.code) {
    problems.push(
      `wire code ${err.code} does not match the table's ${ERROR_TABLE[code as GatewayErrorCode].wire}`,
    );
  }
  if (typeof err.message !== "string" || err.message === "") problems.push("empty message");
  return problems;
}

/** The `details.code` of an error response ("ok" for a success). */
export function codeOf(res: WireFrame | null): string {
  if (!res) return "no-response";
  if (res.ok) return "ok";
  const code = res.error?.details?.code;
  return typeof code === "string" ? code : `wire:${res.error?.code ?? "?"}`;
}

/**
 * `node.invoke`'s documented answers when the node side fails: UNAVAILABLE on the wire, with the
 * reason in `details.reason` (not the generic internal error a throwing handler produces).
 */
export const NODE_FAILURE_REASONS: ReadonlySet<string> = new Set([
  "node-not-connected",
  "node-timeout",
  "node-error",
  "node-disconnected",
]);

/** `codeOf`, plus `details.reason` when there is one (`INTERNAL_ERROR:store-unavailable`). */
export function labelOf(res: WireFrame | null): string {
  const reason = res?.error?.details?.reason;
  return typeof reason === "string" ? `${codeOf(res)}:${reason}` : codeOf(res);
}

/** Close codes a refused handshake may end with: protocol, bad UTF-8, policy, too big. */
export const HANDSHAKE_CLOSE_CODES: ReadonlySet<number> = new Set([
  CLOSE_CODES.protocolMismatch,
  1007,
  CLOSE_CODES.policy,
  CLOSE_CODES.tooBig,
]);

/**
 * The rows that carry rights, as comparable text: devices (without last-seen bookkeeping), their
 * token slots (hash state included via verify-independent fields, without last-used), and pending
 * requests. Audit rows are not rights and are left out.
 */
export function rightsSnapshot(
  store: Store,
  nowMs = Date.now(),
): { devices: string; tokens: string; pending: string } {
  const devices = store.devices
    .list()
    .map((d) => ({ ...d, lastSeenAtMs: null, lastSeenIp: null }))
    .sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  const tokens = devices.flatMap((d) =>
    store.tokens.list(d.deviceId).map((t) => ({ ...t, lastUsedAtMs: null })),
  );
  const pending = store.pending.list(nowMs).map((p) => ({ ...p, refreshedAtMs: 0, expiresAtMs: 0 }));
  return {
    devices: JSON.stringify(devices),
    tokens: JSON.stringify(tokens),
    pending: JSON.stringify(pending),
  };
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
