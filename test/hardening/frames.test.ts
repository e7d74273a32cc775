/**
 * Abusive frames against a real in-process gateway: oversized, deeply nested, invalid UTF-8 and
 * binary frames before and after hello, and floods of requests before hello (only the first frame
 * counts) and after it (answered in order; heap back near its baseline once the sockets close).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ALL_OPERATOR_SCOPES } from "../../src/protocol/scopes.js";
import { startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import { connectParams, type ConnectOptions } from "../helpers/raw-client.js";
import {
  codeOf,
  errorShapeProblems,
  firstFrameOutcome,
  NODE_FAILURE_REASONS,
  openBare,
  recordingLogger,
  request,
  settledHeap,
  size,
  sleep,
  Tally,
  type BarePeer,
  type WireFrame,
} from "./support.js";

const PREAUTH_LIMIT = 64 * 1024;
const NODE_COMMAND = "frames.echo";

let gw: TestGateway;
let logger: ReturnType<typeof recordingLogger>;

before(async () => {
  logger = recordingLogger();
  gw = await startTestGateway({ logger });
});

after(async () => {
  await gw.stop();
});

/** An admitted session (owner key: every operator scope unless told otherwise). */
async function admitted(o: ConnectOptions = {}): Promise<{ peer: BarePeer; hello: WireFrame }> {
  const peer = await openBare(gw.url);
  const opts: ConnectOptions =
    o.identity || o.auth ? o : { ...o, identity: gw.owner, scopes: [...ALL_OPERATOR_SCOPES] };
  peer.ws.send(
    JSON.stringify({
      type: "req",
      id: "hello",
      method: "connect",
      params: connectParams(peer.challenge.nonce, opts),
    }),
  );
  const hello = await peer.waitFor((f) => f.type === "res" && f.id === "hello");
  assert.equal(hello?.ok, true, `admitted: ${JSON.stringify(hello)?.slice(0, 300)}`);
  return { peer, hello: hello! };
}

/** The gateway still admits and answers a fresh client. */
async function assertAlive(): Promise<void> {
  const { peer } = await admitted({ identity: gw.owner, scopes: ["operator.read"] });
  assert.equal((await request(peer, "alive", "health"))?.ok, true);
  peer.ws.close();
}

function deepArrays(depth: number): string {
  return "[".repeat(depth) + "]".repeat(depth);
}

function deepObjects(depth: number): string {
  return '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

describe("hardening: oversized, deep, invalid and binary frames", () => {
  it("a pre-auth frame of 64 KiB + 1 closes 1009; one of exactly 64 KiB is read and refused for its content", async (t) => {
    const big = await firstFrameOutcome(gw.url, (p) => p.ws.send("x".repeat(PREAUTH_LIMIT + 1)));
    assert.equal(big.res, null);
    assert.equal(big.close?.code, 1009);
    const exact = await firstFrameOutcome(gw.url, (p) => p.ws.send("x".repeat(PREAUTH_LIMIT)));
    assert.deepEqual(exact.close, { code: 1008, reason: "invalid request frame" });
    // A valid connect padded past the limit is refused for its size before anything reads it.
    const padded = await firstFrameOutcome(gw.url, (p) => {
      const params = connectParams(p.challenge.nonce, { identity: gw.owner, scopes: ["operator.read"] });
      p.ws.send(
        JSON.stringify({
          type: "req",
          id: "c",
          method: "connect",
          params: { ...params, userAgent: "u".repeat(PREAUTH_LIMIT) },
        }),
      );
    });
    assert.equal(padded.res, null, "no hello for an oversized connect");
    assert.equal(padded.close?.code, 1009);
    t.diagnostic(
      `64 KiB + 1 → ${big.close?.code}; 64 KiB → ${exact.close?.code}; padded connect → ${padded.close?.code}`,
    );
    await assertAlive();
  });

  it("deep JSON before hello (within 64 KiB) is refused without a stack overflow", async (t) => {
    const depth = Math.floor((PREAUTH_LIMIT - 64) / 2);
    const cases: Array<[string, string]> = [
      ["32k nested arrays as the frame", deepArrays(Math.floor(PREAUTH_LIMIT / 2))],
      ["nested objects as the frame", deepObjects(Math.floor((PREAUTH_LIMIT - 2) / 6))],
      [
        "nested arrays as connect params",
        `{"type":"req","id":"d","method":"connect","params":${deepArrays(depth - 30)}}`,
      ],
      [
        "nested arrays inside an optional connect field",
        `{"type":"req","id":"d","method":"connect","params":{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"permissions":{"x":${deepArrays(depth - 120)}}}}`,
      ],
    ];
    for (const [name, text] of cases) {
      assert.ok(Buffer.byteLength(text) <= PREAUTH_LIMIT, `${name} fits the pre-auth limit`);
      const out = await firstFrameOutcome(gw.url, (p) => p.ws.send(text));
      assert.equal(out.timedOut, false, name);
      if (out.res) {
        assert.deepEqual(errorShapeProblems(out.res), [], name);
        assert.equal(codeOf(out.res), "INVALID_CONNECT_PARAMS", name);
      }
      assert.equal(out.close?.code, 1008, name);
      t.diagnostic(
        `${name} (${text.length} bytes) → ${out.res ? codeOf(out.res) : "no response"}, close ${out.close?.code}`,
      );
    }
    await assertAlive();
  });

  it("100,000 (and 1,000,000) nested arrays after hello, as params of every method, are answered", async (t) => {
    const { peer, hello } = await admitted();
    const methods = (hello.payload as { features: { methods: string[] } }).features.methods;
    // A node on the same gateway offering one command, so node.invoke really forwards the params.
    const node = await admitted({
      identity: gw.owner,
      role: "node",
      mode: "node",
      clientId: "node-host",
      scopes: [],
      extra: { commands: [NODE_COMMAND] },
    });
    node.peer.ws.on("message", (data) => {
      const f = JSON.parse(data.toString()) as WireFrame;
      if (f.event !== "node.invoke.request") return;
      const p = f.payload as { invokeId: string };
      // Built as text: JSON.stringify itself cannot serialize this depth.
      node.peer.ws.send(
        `{"type":"req","id":"a-${p.invokeId}","method":"node.invoke.result",` +
          `"params":{"invokeId":"${p.invokeId}","ok":true,"payload":${deepArrays(100_000)}}}`,
      );
    });
    const tally = new Tally();
    const deep = deepArrays(100_000);
    let n = 0;
    const send = async (method: string, paramsText: string): Promise<WireFrame> => {
      const id = `deep${++n}`;
      peer.ws.send(`{"type":"req","id":"${id}","method":"${method}","params":${paramsText}}`);
      const res = await peer.waitFor((f) => f.type === "res" && f.id === id, 20_000);
      assert.ok(res, `${method} answered`);
      assert.equal(peer.isClosed(), false, `${method}: connection still open`);
      if (!res.ok) {
        assert.deepEqual(errorShapeProblems(res), [], method);
        const reason = res.error?.details?.reason;
        if (codeOf(res) === "INTERNAL_ERROR") {
          assert.ok(
            method === "node.invoke" && typeof reason === "string" && NODE_FAILURE_REASONS.has(reason),
            `${method}: bad params must not be an internal error: ${JSON.stringify(res.error)}`,
          );
        }
      }
      const reason = res.error?.details?.reason;
      tally.add(`${method}:${codeOf(res)}${typeof reason === "string" ? `:${reason}` : ""}`);
      return res;
    };
    for (const method of methods) await send(method, deep);
    await send("health", deepArrays(1_000_000));
    const target = `"nodeId":"${gw.owner.deviceId}","command":"${NODE_COMMAND}"`;
    const tooDeep = await send("node.invoke", `{${target},"params":${deep}}`);
    assert.equal(
      codeOf(tooDeep),
      "INVALID_PARAMS",
      "params too deep to forward to the node are refused as params",
    );
    // The node answers with a payload too deep to forward: the invoker gets the node's failure at once.
    const deepAnswer = await send("node.invoke", `{${target},"params":{}}`);
    assert.equal(deepAnswer.error?.details?.reason, "node-error", JSON.stringify(deepAnswer.error));
    t.diagnostic(`deep params after hello: ${tally}`);
    assert.equal((await request(peer, "after", "health"))?.ok, true, "the session still answers");
    assert.equal(logger.count("method failed"), 0, "no handler failed with an undocumented error");
    peer.ws.close();
    node.peer.ws.close();
    await assertAlive();
  });

  it("an invalid UTF-8 text frame closes 1007 before and after hello; the gateway lives", async (t) => {
    const bad = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    const pre = await firstFrameOutcome(gw.url, (p) => p.ws.send(bad, { binary: false }));
    assert.equal(pre.res, null);
    assert.equal(pre.close?.code, 1007);
    const { peer } = await admitted();
    peer.ws.send(bad, { binary: false });
    const post = await peer.closed;
    assert.equal(post.code, 1007);
    t.diagnostic(`invalid UTF-8: before hello → ${pre.close?.code}, after hello → ${post.code}`);
    await assertAlive();
  });

  it("binary frames close 1008 (invalid request frame) before and after hello, even holding a valid request", async (t) => {
    const connect = (nonce: string) =>
      Buffer.from(
        JSON.stringify({
          type: "req",
          id: "b",
          method: "connect",
          params: connectParams(nonce, { identity: gw.owner, scopes: ["operator.read"] }),
        }),
      );
    const pre = await firstFrameOutcome(gw.url, (p) =>
      p.ws.send(connect(p.challenge.nonce), { binary: true }),
    );
    assert.equal(pre.res, null, "a binary connect is not read as a connect");
    assert.deepEqual(pre.close, { code: 1008, reason: "invalid request frame" });
    const { peer } = await admitted();
    peer.ws.send(Buffer.from(JSON.stringify({ type: "req", id: "h", method: "health" })), { binary: true });
    const post = await peer.closed;
    assert.deepEqual(post, { code: 1008, reason: "invalid request frame" });
    t.diagnostic(`binary: before hello → ${pre.close?.code}, after hello → ${post.code} ${post.reason}`);
    await assertAlive();
  });
});

describe("hardening: request floods", () => {
  it("10,000 requests before hello: only the first frame counts and the connection closes", async (t) => {
    const results: string[] = [];
    for (const first of ["health", "bad-connect"] as const) {
      const peer = await openBare(gw.url);
      const valid = JSON.stringify({
        type: "req",
        id: "later",
        method: "connect",
        params: connectParams(peer.challenge.nonce, { identity: gw.owner, scopes: ["operator.admin"] }),
      });
      const head =
        first === "health"
          ? JSON.stringify({ type: "req", id: "first", method: "health" })
          : JSON.stringify({ type: "req", id: "first", method: "connect", params: { minProtocol: 4 } });
      peer.ws.send(head);
      // The rest, valid connects included, must never be read.
      for (let i = 1; i < 10_000; i++)
        peer.ws.send(i % 2 ? valid : JSON.stringify({ type: "req", id: `r${i}`, method: "health" }));
      const close = await peer.closed;
      await sleep(20);
      const responses = peer.frames.filter((f) => f.type === "res");
      assert.equal(responses.length, 1, `exactly one response (${first})`);
      assert.equal(responses[0]!.id, "first");
      assert.equal(responses[0]!.ok, false);
      assert.equal(
        codeOf(responses[0]!),
        first === "health" ? "HANDSHAKE_NOT_CONNECT" : "INVALID_CONNECT_PARAMS",
      );
      assert.equal(close.code, 1008);
      results.push(
        `${first} first → ${codeOf(responses[0]!)}, 1 response for 10,000 frames, close ${close.code}`,
      );
    }
    t.diagnostic(results.join("; "));
    await assertAlive();
  });

  it("5,000 requests after hello are answered in order; heap returns near its baseline", async (t) => {
    const perConn = 5000;
    const conns = size(4, 16);
    const openBefore = gw.server.openConnections().length;
    const baseline = settledHeap();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);
    const started = Date.now();
    await Promise.all(
      Array.from({ length: conns }, async (_, c) => {
        const { peer } = await admitted({ auth: { token: TEST_TOKEN }, scopes: ["operator.read"] });
        const ids: string[] = [];
        for (let i = 0; i < perConn; i++) {
          const id = `f${c}-${i}`;
          ids.push(id);
          peer.ws.send(JSON.stringify({ type: "req", id, method: i % 2 ? "status" : "health" }));
        }
        const last = await peer.waitFor((f) => f.type === "res" && f.id === ids.at(-1), 60_000);
        assert.ok(last, `connection ${c}: the last request was answered`);
        const answered = peer.frames.filter((f) => f.type === "res" && f.id !== "hello");
        assert.equal(answered.length, perConn, `connection ${c}: every request answered once`);
        assert.deepEqual(
          answered.map((f) => f.id),
          ids,
          `connection ${c}: answers in request order`,
        );
        assert.ok(
          answered.every((f) => f.ok === true),
          `connection ${c}: every answer ok`,
        );
        peer.ws.close();
        await peer.closed;
      }),
    );
    const elapsed = Date.now() - started;
    clearInterval(sampler);
    await sleep(100);
    const settled = settledHeap();
    const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
    t.diagnostic(
      `${conns} × ${perConn} requests in ${elapsed} ms; heap baseline ${mib(baseline)} MiB, peak ${mib(peak)} MiB, ` +
        `after close ${mib(settled)} MiB (Δ ${mib(settled - baseline)} MiB)`,
    );
    assert.ok(gw.server.openConnections().length <= openBefore, "every flooding connection is gone");
    // Test client and gateway share this heap; what the flood allocated must be collectable.
    assert.ok(
      settled - baseline < 16 * 1024 * 1024,
      `heap back near baseline (Δ ${mib(settled - baseline)} MiB)`,
    );
    await assertAlive();
  });
});
