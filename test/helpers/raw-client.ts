/** A bare WebSocket peer for handshake tests: sends exactly what a test says, records what it gets. */
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import { buildSignaturePayloadV3, signedToken } from "../../src/protocol/signature-payload.js";
import { signPayload, type DeviceIdentity } from "../../src/identity/keys.js";

export interface Frame {
  type: string;
  id?: string;
  ok?: boolean;
  event?: string;
  payload?: Record<string, unknown> & { nonce?: string; ts?: number };
  error?: { code: string; message: string; details?: Record<string, unknown> };
  seq?: number;
}

export interface RawPeer {
  ws: WebSocket;
  /** The `connect.challenge` payload. */
  challenge: { nonce: string; ts: number };
  /** Next frame not yet consumed (waits up to 5 s). */
  next(): Promise<Frame>;
  send(frame: unknown): void;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a socket and waits for the challenge. */
export async function openPeer(url: string, headers: Record<string, string> = {}): Promise<RawPeer> {
  const ws = new WebSocket(url, { headers });
  const queue: Frame[] = [];
  const waiters: Array<(f: Frame) => void> = [];
  ws.on("message", (data) => {
    const frame = JSON.parse(data.toString()) as Frame;
    const w = waiters.shift();
    if (w) w(frame);
    else queue.push(frame);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const next = () =>
    new Promise<Frame>((resolve, reject) => {
      const f = queue.shift();
      if (f) return resolve(f);
      const t = setTimeout(() => reject(new Error("no frame within 5 s")), 5000);
      waiters.push((frame) => {
        clearTimeout(t);
        resolve(frame);
      });
    });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) =>
      reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)),
    );
  });
  const first = await next();
  if (first.event !== "connect.challenge" || !first.payload?.nonce) throw new Error("no challenge");
  return {
    ws,
    challenge: { nonce: String(first.payload.nonce), ts: Number(first.payload.ts) },
    next,
    send: (frame) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
    closed,
  };
}

export interface ConnectOptions {
  clientId?: string;
  mode?: string;
  role?: string;
  scopes?: string[];
  auth?: { token?: string; password?: string; deviceToken?: string; bootstrapToken?: string };
  platform?: string;
  deviceFamily?: string;
  minProtocol?: number;
  maxProtocol?: number;
  identity?: DeviceIdentity;
  /** Overrides applied to the signed device block (to forge proofs). */
  device?: Partial<{ id: string; publicKey: string; signature: string; signedAt: number; nonce: string }>;
  /** Sign with this nonce instead of the challenge's. */
  signNonce?: string;
  signedAt?: number;
  /** Sign these fields instead of the ones sent. */
  signOverride?: Partial<{
    role: string;
    scopes: string[];
    clientId: string;
    token: string;
    platform: string;
  }>;
  extra?: Record<string, unknown>;
}

/** Builds connect params; signs a v3 device proof when an identity is given. */
export function connectParams(challengeNonce: string, o: ConnectOptions = {}): Record<string, unknown> {
  const client = {
    id: o.clientId ?? "cli",
    version: "test",
    platform: o.platform ?? "linux",
    mode: o.mode ?? "cli",
    ...(o.deviceFamily ? { deviceFamily: o.deviceFamily } : {}),
  };
  const role = o.role ?? "operator";
  const scopes = o.scopes ?? [];
  const params: Record<string, unknown> = {
    minProtocol: o.minProtocol ?? 4,
    maxProtocol: o.maxProtocol ?? 4,
    client,
    role,
    scopes,
    ...(o.auth ? { auth: o.auth } : {}),
    ...o.extra,
  };
  if (o.identity) {
    const signedAt = o.signedAt ?? Date.now();
    const nonce = o.signNonce ?? challengeNonce;
    const payload = buildSignaturePayloadV3({
      deviceId: o.identity.deviceId,
      clientId: o.signOverride?.clientId ?? client.id,
      clientMode: client.mode,
      role: o.signOverride?.role ?? role,
      scopes: o.signOverride?.scopes ?? scopes,
      signedAtMs: signedAt,
      token: o.signOverride?.token ?? signedToken(o.auth),
      nonce,
      platform: o.signOverride?.platform ?? client.platform,
      deviceFamily: client.deviceFamily,
    });
    params.device = {
      id: o.identity.deviceId,
      publicKey: o.identity.publicKey,
      signature: signPayload(o.identity, payload),
      signedAt,
      nonce,
      ...o.device,
    };
  }
  return params;
}

let reqCounter = 0;

/** Sends a connect request and returns the response frame. */
export async function sendConnect(peer: RawPeer, o: ConnectOptions = {}): Promise<Frame> {
  const id = `c${++reqCounter}`;
  peer.send({ type: "req", id, method: "connect", params: connectParams(peer.challenge.nonce, o) });
  const res = await peer.next();
  if (res.type !== "res" || res.id !== id) throw new Error(`expected res ${id}, got ${JSON.stringify(res)}`);
  return res;
}

/**
 * Another operator as a test plays one: a device-less backend peer admitted with the shared
 * secret `token` from loopback, holding `scopes`; fails the test when it is not admitted.
 */
export async function backendPeer(
  url: string,
  token: string,
  scopes: string[] = ["operator.admin"],
): Promise<RawPeer> {
  const peer = await openPeer(url);
  const hello = await sendConnect(peer, {
    auth: { token },
    clientId: "gateway-client",
    mode: "backend",
    scopes,
  });
  assert.equal(hello.ok, true, JSON.stringify(hello.error));
  return peer;
}

/** Opens a socket (with extra upgrade headers), sends one connect, closes; the response frame. */
export async function connectOnce(
  url: string,
  o: ConnectOptions = {},
  headers: Record<string, string> = {},
): Promise<Frame> {
  const peer = await openPeer(url, headers);
  const res = await sendConnect(peer, o);
  peer.ws.close();
  return res;
}

/** Sends a request after hello and returns its response. */
export async function call(peer: RawPeer, method: string, params?: unknown): Promise<Frame> {
  const id = `r${++reqCounter}`;
  peer.send({ type: "req", id, method, ...(params !== undefined ? { params } : {}) });
  for (;;) {
    const f = await peer.next();
    if (f.type === "res" && f.id === id) return f;
  }
}

/** Tries an upgrade with extra headers; resolves with the HTTP status (101 when it opened) and body. */
export function upgradeStatus(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once("open", () => {
      ws.close();
      resolve({ status: 101, body: "" });
    });
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once("error", (err) => {
      if (!String(err.message).includes("Unexpected server response")) reject(err);
    });
  });
}
