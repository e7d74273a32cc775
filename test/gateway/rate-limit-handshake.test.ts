/** C17 at the handshake: failed shared secrets and device tokens lock the address out. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { generateIdentity } from "../../src/identity/keys.js";
import { startTestGateway, TEST_TOKEN } from "../helpers/gateway.js";
import { connectOnce } from "../helpers/raw-client.js";

const attempt = connectOnce;

describe("C17 — failed credentials are rate limited", () => {
  it("C17: 10 wrong tokens lock the address out; then even the right token is refused with retryAfterMs", async () => {
    const gw = await startTestGateway();
    try {
      for (let i = 0; i < 10; i++) {
        const r = await attempt(gw.url, { auth: { token: `wrong-${i}` } });
        assert.equal(r.error?.details?.code, "AUTH_TOKEN_MISMATCH");
      }
      const locked = await attempt(gw.url, { auth: { token: TEST_TOKEN }, scopes: ["operator.read"] });
      assert.equal(locked.error?.details?.code, "AUTH_RATE_LIMITED");
      const after = (locked.error as { retryAfterMs?: number }).retryAfterMs ?? 0;
      assert.ok(after > 60_000, `retryAfterMs ${after}`);
      // The owner key needs no shared secret and is not locked out by someone guessing it.
      assert.equal((await attempt(gw.url, { identity: gw.owner, scopes: ["operator.read"] })).ok, true);
    } finally {
      await gw.stop();
    }
  });

  it("C17: a bogus deviceToken beside a wrong token does not switch the shared-secret limiter off", async () => {
    const gw = await startTestGateway();
    try {
      for (let i = 0; i < 10; i++) {
        await attempt(gw.url, {
          auth: { token: `wrong-${i}`, deviceToken: "bogus" },
          identity: generateIdentity(),
        });
      }
      const locked = await attempt(gw.url, { auth: { token: TEST_TOKEN } });
      assert.equal(locked.error?.details?.code, "AUTH_RATE_LIMITED");
    } finally {
      await gw.stop();
    }
  });

  it("C17: browser-origin attempts on loopback get no exemption", async () => {
    const gw = await startTestGateway();
    try {
      const origin = { Origin: `http://127.0.0.1:${gw.server.port}` };
      for (let i = 0; i < 10; i++) {
        await attempt(
          gw.url,
          {
            auth: { token: `guess-${i}` },
            clientId: "openclaw-control-ui",
            mode: "webchat",
            identity: generateIdentity(),
          },
          origin,
        );
      }
      const locked = await attempt(
        gw.url,
        {
          auth: { token: TEST_TOKEN },
          clientId: "openclaw-control-ui",
          mode: "webchat",
          identity: generateIdentity(),
        },
        origin,
      );
      assert.equal(locked.error?.details?.code, "AUTH_RATE_LIMITED");
    } finally {
      await gw.stop();
    }
  });

  it("missing credentials are not charged; a success clears the budget", async () => {
    const gw = await startTestGateway();
    try {
      for (let i = 0; i < 20; i++) await attempt(gw.url, {});
      for (let i = 0; i < 9; i++) await attempt(gw.url, { auth: { token: `wrong-${i}` } });
      assert.equal((await attempt(gw.url, { auth: { token: TEST_TOKEN } })).ok, true);
      for (let i = 0; i < 9; i++) await attempt(gw.url, { auth: { token: `wrong-again-${i}` } });
      assert.equal(
        (await attempt(gw.url, { auth: { token: TEST_TOKEN } })).ok,
        true,
        "the success reset the count",
      );
    } finally {
      await gw.stop();
    }
  });
});
