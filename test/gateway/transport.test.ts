/** The upgrade's transport facts: any forwarding header marks the request as proxied (S-C03 rests on it). */
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { describe, it } from "node:test";
import { transportFacts } from "../../src/gateway/transport.js";

/** An upgrade request as Node hands it over: lower-case header names, the peer on the socket. */
function request(headers: Record<string, string | string[]>): IncomingMessage {
  return { headers, socket: { remoteAddress: "127.0.0.1" } } as unknown as IncomingMessage;
}

describe("transport facts", () => {
  it("counts Forwarded, X-Real-IP and every X-Forwarded-* header as forwarding, each alone", () => {
    for (const name of [
      "forwarded",
      "x-real-ip",
      "x-forwarded-for",
      "x-forwarded-host",
      "x-forwarded-proto",
      "x-forwarded-port",
    ]) {
      const facts = transportFacts(request({ host: "127.0.0.1:1", [name]: "x" }));
      assert.equal(facts.hasProxyHeaders, true, name);
    }
  });

  it("a plain local request is not forwarded, and its Host, Origin and peer are read as sent", () => {
    const facts = transportFacts(
      request({ host: "127.0.0.1:18790", origin: "http://127.0.0.1:18790", "x-forwarder": "no" }),
    );
    assert.deepEqual(facts, {
      peerAddress: "127.0.0.1",
      host: "127.0.0.1:18790",
      origin: "http://127.0.0.1:18790",
      forwardedFor: null,
      hasProxyHeaders: false,
    });
  });

  it("joins a repeated X-Forwarded-For into one list", () => {
    const facts = transportFacts(request({ "x-forwarded-for": ["203.0.113.7", "198.51.100.1"] }));
    assert.equal(facts.forwardedFor, "203.0.113.7,198.51.100.1");
    assert.equal(facts.hasProxyHeaders, true);
  });
});
