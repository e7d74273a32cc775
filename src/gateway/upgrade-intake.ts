/**
 * The first bytes of every connection to the gateway's plain HTTP listener: a WebSocket upgrade
 * in its plainest form (websocket/request-head.ts) goes straight to the upgrade handler; anything
 * else (health checks, the Control UI, any unusual request) is handed to Node's HTTP server, with
 * the bytes read put back, and is judged exactly as before. A connect is most of a gateway's
 * traffic, and Node's server builds a parser, a request object and a dozen listeners per socket
 * only to hand the socket over at once (bench/README.md, "Eighth pass").
 */
import type { Server } from "node:http";
import type { Socket } from "node:net";
import { readUpgradeHead, type UpgradeHead } from "../websocket/request-head.js";
import type { UpgradeRequest } from "../websocket/upgrade-request.js";

/** The upgrade handler's view of a request: Node's `IncomingMessage` has the same fields. */
export interface UpgradeRequestFacts extends UpgradeRequest {
  url?: string | undefined;
  socket: { readonly remoteAddress?: string | undefined };
}

export type UpgradeHandler = (req: UpgradeRequestFacts, socket: Socket, head: Buffer) => void;

/** Sockets waiting for their first bytes, and since when; a stopped intake drops them. */
export interface UpgradeIntake {
  /** How many sockets have sent nothing yet (tests: a socket that closes must not stay counted). */
  waiting(): number;
  /** Destroys every socket that has sent nothing yet, and stops the timeout sweep. */
  close(): void;
}

interface IntakeState {
  server: Server;
  onUpgrade: UpgradeHandler;
  /** Node's own `connection` listeners, which the intake stands in front of. */
  nodeListeners: Array<(socket: Socket) => void>;
  waiting: Map<Socket, number>;
}

/**
 * Longest a socket may stay silent in the intake. Clients send their request as soon as they are
 * connected; a socket handed to Node starts Node's own `headersTimeout` then, so the intake's window
 * must be short, or a silent-then-trickling socket would be held for both windows one after the
 * other (Node's check alone bounded it before the intake).
 */
export const INTAKE_SILENT_MS = 10_000;

const kIntake = Symbol("upgradeIntake");
type IntakeSocket = Socket & { [kIntake]?: IntakeState };

/** Bounds of the intake's wait for a socket's first bytes (tests shorten them). */
export interface IntakeOptions {
  /** Default {@link INTAKE_SILENT_MS}; the server's `headersTimeout` when that is shorter. */
  silentMs?: number;
  now?: () => number;
}

/**
 * Puts the intake in front of `server`'s connections (before it listens). A socket that sends
 * nothing within {@link INTAKE_SILENT_MS} (or the server's `headersTimeout`, if shorter) is
 * answered 408 and closed, as Node's server answers a request that does not finish its head in
 * time; the check runs twice per window.
 */
export function installUpgradeIntake(
  server: Server,
  onUpgrade: UpgradeHandler,
  options: IntakeOptions = {},
): UpgradeIntake {
  const now = options.now ?? Date.now;
  const silentMs = Math.min(options.silentMs ?? INTAKE_SILENT_MS, server.headersTimeout);
  const state: IntakeState = {
    server,
    onUpgrade,
    nodeListeners: server.listeners("connection") as IntakeState["nodeListeners"],
    waiting: new Map(),
  };
  server.removeAllListeners("connection");
  server.on("connection", (socket: IntakeSocket) => {
    socket[kIntake] = state;
    state.waiting.set(socket, now());
    socket.on("error", onWaitingError);
    // A socket that ends or closes silent leaves at once: a flood of connect-and-close must not
    // pile up sockets here until the sweep (the listener allows half-open sockets, as Node's server
    // does, so a client's end alone would not close it).
    socket.on("end", onWaitingGone);
    socket.on("close", onWaitingGone);
    socket.on("data", onFirstData);
  });
  const sweep = setInterval(() => {
    const cutoff = now() - silentMs;
    for (const [socket, since] of state.waiting) {
      if (socket.destroyed) state.waiting.delete(socket);
      else if (since <= cutoff) {
        state.waiting.delete(socket);
        socket.end("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n");
        socket.destroySoon();
      }
    }
  }, silentMs / 2);
  sweep.unref();
  return {
    waiting: () => state.waiting.size,
    close() {
      clearInterval(sweep);
      for (const socket of state.waiting.keys()) socket.destroy();
      state.waiting.clear();
    },
  };
}

/** Module functions, not closures: nothing made per socket outlives its first bytes. */
function onWaitingError(this: IntakeSocket): void {
  this.destroy();
}

function onWaitingGone(this: IntakeSocket): void {
  this[kIntake]?.waiting.delete(this);
  this[kIntake] = undefined;
  this.destroy();
}

function onFirstData(this: IntakeSocket, chunk: Buffer): void {
  const state = this[kIntake]!;
  this[kIntake] = undefined;
  state.waiting.delete(this);
  this.removeListener("data", onFirstData);
  this.removeListener("end", onWaitingGone);
  this.removeListener("close", onWaitingGone);
  this.removeListener("error", onWaitingError);
  const read = readUpgradeHead(chunk);
  if (read) {
    state.onUpgrade(facts(read.request, this), this, read.rest);
    return;
  }
  // Node's server reads the bytes put back as if they had just arrived.
  this.pause();
  this.unshift(chunk);
  for (const listener of state.nodeListeners) listener.call(state.server, this);
  this.resume();
}

function facts(request: UpgradeHead, socket: Socket): UpgradeRequestFacts {
  return { method: request.method, url: request.url, headers: request.headers, socket };
}
