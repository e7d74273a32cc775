/**
 * The client's frame reader as data: however the server's bytes are cut into TCP reads (one byte
 * at a time, at every point, a header split ahead of a long payload), the same messages come out.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { FrameReader, type Inbound } from "../../src/websocket/frames.js";
import { closeBody, serverFrame } from "./raw-ws-server.js";

/** A stream with every length form, fragments around a ping, binary and a close. */
const STREAM = Buffer.concat([
  serverFrame({ payload: "" }),
  serverFrame({ payload: "x".repeat(125) }),
  serverFrame({ payload: "y".repeat(126) }),
  serverFrame({ payload: "short", lengthForm: 64 }),
  serverFrame({ opcode: 1, fin: false, payload: "hel" }),
  serverFrame({ opcode: 9, payload: "ping" }),
  serverFrame({ opcode: 0, fin: false, payload: "lo " }),
  serverFrame({ opcode: 0, fin: true, payload: "✓" }),
  serverFrame({ opcode: 2, payload: Buffer.from([0, 255]) }),
  serverFrame({ opcode: 8, payload: closeBody(4001, "bye") }),
  // Ignored: nothing is read after a close frame.
  serverFrame({ payload: "after close" }),
]);

const EXPECTED: Inbound[] = [
  { type: "text", data: "" },
  { type: "text", data: "x".repeat(125) },
  { type: "text", data: "y".repeat(126) },
  { type: "text", data: "short" },
  { type: "ping", data: Buffer.from("ping") },
  { type: "text", data: "hello ✓" },
  { type: "binary", data: Buffer.from([0, 255]) },
  { type: "close", code: 4001, reason: "bye" },
];

function readAll(chunks: Buffer[], maxPayload = 1 << 20): Inbound[] {
  const reader = new FrameReader(maxPayload);
  return chunks.flatMap((c) => reader.push(c));
}

test("the same messages whether the stream comes whole, a byte at a time, or cut at any one point", () => {
  assert.deepEqual(readAll([STREAM]), EXPECTED);
  assert.deepEqual(readAll([...STREAM].map((b) => Buffer.from([b]))), EXPECTED);
  for (let at = 1; at < STREAM.length; at++) {
    assert.deepEqual(readAll([STREAM.subarray(0, at), STREAM.subarray(at)]), EXPECTED, `cut at ${at}`);
  }
});

test("a 64-bit header split ahead of a payload that arrives in many reads", () => {
  const payload = "é".repeat(100_000);
  const frame = serverFrame({ payload });
  const chunks = [frame.subarray(0, 1), frame.subarray(1, 5)];
  for (let at = 5; at < frame.length; at += 1000) chunks.push(frame.subarray(at, at + 1000));
  assert.deepEqual(readAll(chunks), [{ type: "text", data: payload }]);
});

test("a frame over the limit is refused on its header, before its payload", () => {
  const reader = new FrameReader(10);
  const head = serverFrame({ payload: "z".repeat(11) }).subarray(0, 2);
  assert.throws(
    () => reader.push(head),
    (err: Error & { code?: string; closeCode?: number }) =>
      err.code === "MESSAGE_TOO_BIG" && err.closeCode === 1009,
  );
});
