/**
 * A scripted stand-in for the gateway (the real one is built concurrently): it speaks the wire
 * protocol on 127.0.0.1, checks the client's connect against the schema and the documented v3
 * signature payload, and answers however each test scripts it.
 */
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import {
  buildSignaturePayloadV3,
  GatewayError,
  isRecord,
  signedToken,
  validateConnectParams,
  type ConnectParams,
  type ErrorShape,
  type HelloOk,
} from "../../src/protocol/index.js";
import {
  decodePublicKeyBytes,
  deviceIdFromRawKey,
  publicKeyFromRaw,
  verifyPayload,
} from "../../src/identity/keys.js";

/** What the fake found when it checked a connect's device proof. */
export interface SignatureCheck {
  /** The payload the server rebuilt from the frame and its own nonce. */
  payload: string;
  valid: boolean;
  deviceIdMatchesKey: boolean;
  nonceMatches: boolean;
}

export interface ConnectRecord {
  /** 1-based count of connects this fake has seen. */
  index: number;
  params: ConnectParams;
  nonce: string;
  signature: SignatureCheck | null;
}

/** How to answer one connect. */
export type ConnectAnswer =
  | { hello: HelloOk }
  | { error: GatewayError }
  | { errorShape: ErrorShape; closeCode: number; closeReason: string }
  | { silent: true };

export interface RequestFrameSeen {
  id: string;
  method: string;
  params?: unknown;
}

/** How to answer one request; `undefined` leaves it unanswered. */
export type RequestAnswer = { payload: unknown } | { error: GatewayError } | undefined;

export interface FakeGatewayOptions {
  /** `false` sends no challenge; an object replaces the challenge payload. */
  challenge?: false | Record<string, unknown>;
  onConnect?: (record: ConnectRecord) => ConnectAnswer | Promise<ConnectAnswer>;
  onRequest?: (frame: RequestFrameSeen, socket: WebSocket) => RequestAnswer | Promise<RequestAnswer>;
}

export interface ClosedSocket {
  code: number;
  reason: string;
}

/** A hello-ok with sane defaults; `auth` fields override. */
export function helloOk(auth: Partial<HelloOk["auth"]> = {}): HelloOk {
  return {
    type: "hello-ok",
    protocol: 4,
    server: { version: "fake", connId: randomUUID() },
    features: { methods: ["health", "echo"], events: ["tick"] },
    snapshot: {},
    auth: { role: "operator", scopes: [], ...auth },
    policy: { maxPayload: 26_214_400, maxBufferedBytes: 52_428_800, tickIntervalMs: 30_000 },
  };
}

/** Checks a device proof exactly as the gateway must: rebuild the v3 payload, verify, derive the id. */
export function checkDeviceProof(params: ConnectParams, serverNonce: string): SignatureCheck | null {
  const device = params.device;
  if (!device) return null;
  const payload = buildSignaturePayloadV3({
    deviceId: device.id,
    clientId: params.client.id,
    clientMode: params.client.mode,
    role: params.role ?? "operator",
    scopes: params.scopes ?? [],
    signedAtMs: device.signedAt,
    token: signedToken(params.auth),
    nonce: serverNonce,
    platform: params.client.platform,
    deviceFamily: params.client.deviceFamily,
  });
  const raw = decodePublicKeyBytes(device.publicKey);
  const key = raw ? publicKeyFromRaw(raw) : null;
  return {
    payload,
    valid: key !== null && verifyPayload(key, payload, device.signature),
    deviceIdMatchesKey: raw !== null && deviceIdFromRawKey(raw) === device.id,
    nonceMatches: device.nonce === serverNonce,
  };
}

/** The scripted gateway; start with {@link FakeGateway.start}, always {@link FakeGateway.stop}. */
export class FakeGateway {
  readonly connects: ConnectRecord[] = [];
  readonly requests: RequestFrameSeen[] = [];
  readonly cancels: string[] = [];
  /** Close frames received from clients, in order. */
  readonly closes: ClosedSocket[] = [];
  /** Sockets that completed hello. */
  readonly sessions = new Set<WebSocket>();
  /** Every socket ever accepted (open or not). */
  socketCount = 0;
  options: FakeGatewayOptions;

  private constructor(
    private readonly wss: WebSocketServer,
    options: FakeGatewayOptions,
  ) {
    this.options = options;
    wss.on("connection", (ws) => this.onConnection(ws));
  }

  /** Listens on 127.0.0.1, port 0. */
  static async start(options: FakeGatewayOptions = {}): Promise<FakeGateway> {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve, reject) => {
      wss.once("listening", resolve);
      wss.once("error", reject);
    });
    return new FakeGateway(wss, options);
  }

  get port(): number {
    return (this.wss.address() as AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Sends an event frame to every session. */
  broadcast(event: string, payload: unknown, seq?: number): void {
    const frame =
      seq === undefined ? { type: "event", event, payload } : { type: "event", event, payload, seq };
    for (const ws of this.sessions) ws.send(JSON.stringify(frame));
  }

  /** Closes every open socket with `code` (e.g. 1012 for a restart). */
  closeAll(code: number, reason = ""): void {
    for (const ws of this.wss.clients) ws.close(code, reason);
  }

  async stop(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onConnection(ws: WebSocket): void {
    this.socketCount += 1;
    const nonce = randomUUID();
    let helloDone = false;
    ws.on("close", (code, reason) => {
      this.sessions.delete(ws);
      this.closes.push({ code, reason: reason.toString("utf8") });
    });
    ws.on("message", (data) => {
      void (async () => {
        const frame: unknown = JSON.parse(String(data));
        if (!isRecord(frame)) return;
        if (frame.type === "cancel" && typeof frame.id === "string") {
          this.cancels.push(frame.id);
          return;
        }
        if (frame.type !== "req" || typeof frame.id !== "string" || typeof frame.method !== "string") return;
        if (!helloDone) {
          helloDone = await this.onConnect(ws, frame.id, frame.params, nonce);
          return;
        }
        const seen: RequestFrameSeen = { id: frame.id, method: frame.method };
        if ("params" in frame) seen.params = frame.params;
        await this.onRequest(ws, seen);
      })();
    });
    const challenge = this.options.challenge;
    if (challenge === false) return;
    ws.send(
      JSON.stringify({
        type: "event",
        event: "connect.challenge",
        payload: challenge ?? { nonce, ts: Date.now() },
      }),
    );
  }

  private async onConnect(ws: WebSocket, id: string, rawParams: unknown, nonce: string): Promise<boolean> {
    const valid = validateConnectParams(rawParams);
    if (!valid.ok) {
      this.reject(
        ws,
        id,
        new GatewayError("INVALID_CONNECT_PARAMS", { message: `invalid connect params: ${valid.errors[0]}` }),
      );
      return false;
    }
    const params = valid.value;
    const record: ConnectRecord = {
      index: this.connects.length + 1,
      params,
      nonce,
      signature: checkDeviceProof(params, nonce),
    };
    this.connects.push(record);
    if (record.signature && !record.signature.valid) {
      this.reject(ws, id, new GatewayError("DEVICE_AUTH_SIGNATURE_INVALID"));
      return false;
    }
    const answer = this.options.onConnect ? await this.options.onConnect(record) : { hello: helloOk() };
    if ("silent" in answer) return false;
    if ("hello" in answer) {
      ws.send(JSON.stringify({ type: "res", id, ok: true, payload: answer.hello }));
      this.sessions.add(ws);
      return true;
    }
    if ("error" in answer) {
      this.reject(ws, id, answer.error);
      return false;
    }
    ws.send(JSON.stringify({ type: "res", id, ok: false, error: answer.errorShape }));
    ws.close(answer.closeCode, answer.closeReason);
    return false;
  }

  private reject(ws: WebSocket, id: string, error: GatewayError): void {
    ws.send(JSON.stringify({ type: "res", id, ok: false, error: error.toErrorShape() }));
    ws.close(error.closeCode ?? 1008, error.closeReason);
  }

  private async onRequest(ws: WebSocket, frame: RequestFrameSeen): Promise<void> {
    this.requests.push(frame);
    const answer = this.options.onRequest
      ? await this.options.onRequest(frame, ws)
      : { payload: { method: frame.method, params: frame.params ?? null } };
    if (!answer) return;
    const res =
      "error" in answer
        ? { type: "res", id: frame.id, ok: false, error: answer.error.toErrorShape() }
        : { type: "res", id: frame.id, ok: true, payload: answer.payload };
    ws.send(JSON.stringify(res));
  }
}

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 2000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves with the arguments of the next `event` emitted by `emitter`. */
export function nextEvent<T>(
  emitter: { once(event: string, listener: (value: T) => void): unknown },
  event: string,
  timeoutMs = 3000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), timeoutMs);
    emitter.once(event, (value: T) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}
