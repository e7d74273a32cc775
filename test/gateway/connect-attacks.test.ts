/**
 * Issue 11's attacks on the connect path, against the real gateway (in process, real sockets,
 * real SQLite): a device token used to guess the shared secret without limit, a locked-out shared
 * secret refusing the owner's own CLI, and a setup code reviving a revoked admin device.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normalizeSetupCode } from "../../src/protocol/setup-code.js";
import { pairDevice, startTestGateway, TEST_TOKEN } from "../helpers/gateway.js";
import { call, connectOnce, openPeer, sendConnect, type Frame } from "../helpers/raw-client.js";

/** Seen by the gateway as a client at this address: a trusted same-host proxy forwards it. */
const REMOTE = { "X-Forwarded-For": "203.0.113.7" };

const attempt = connectOnce;

type HelloAuth = {
  method?: string;
  scopes?: string[];
  deviceToken?: string;
  deviceTokens?: Array<{ scopes: string[] }>;
};
const authOf = (f: Frame) => (f.payload as { auth?: HelloAuth } | undefined)?.auth;

describe("issue 11: attacks on the connect path", () => {
  it("C17: with a valid device token, wrong shared-secret guesses are charged and hello-ok does not tell the right guess apart", async () => {
    const gw = await startTestGateway({ trustedProxies: ["127.0.0.1"] });
    try {
      const { identity, token } = pairDevice(gw, ["operator.read"]);
      const guess = (secret: string) =>
        attempt(
          gw.url,
          { identity, scopes: ["operator.read"], auth: { deviceToken: token, token: secret } },
          REMOTE,
        );
      for (let i = 0; i < 12; i++) {
        const res = await guess(`wrong-guess-${i}`);
        assert.equal(
          res.ok,
          true,
          `guess ${i} is admitted by the device token: ${JSON.stringify(res.error)}`,
        );
        assert.equal(authOf(res)?.method, "device-token");
      }
      // The right secret, once locked out, counts as absent: the device token still admits, and the
      // reply is the same as for every wrong guess.
      const right = await guess(TEST_TOKEN);
      assert.equal(right.ok, true);
      assert.equal(authOf(right)?.method, "device-token");
      // The guesses were charged: the shared secret is locked for that address.
      const locked = await attempt(gw.url, { scopes: [], auth: { token: TEST_TOKEN } }, REMOTE);
      assert.equal(locked.error?.details?.code, "AUTH_RATE_LIMITED");

      // Before any lockout, a right guess beside a covering device token is not told apart either.
      const fresh = await startTestGateway({ trustedProxies: ["127.0.0.1"] });
      try {
        const other = pairDevice(fresh, ["operator.read"]);
        const methods = [];
        for (const secret of ["wrong", TEST_TOKEN]) {
          const res = await attempt(
            fresh.url,
            {
              identity: other.identity,
              scopes: ["operator.read"],
              auth: { deviceToken: other.token, token: secret },
            },
            REMOTE,
          );
          methods.push(authOf(res)?.method);
        }
        assert.deepEqual(methods, ["device-token", "device-token"]);
      } finally {
        await fresh.stop();
      }
    } finally {
      await gw.stop();
    }
  });

  it("C17: a dozen wrong tokens from a local process do not lock out the owner's CLI carrying the token, nor a valid device token", async () => {
    const gw = await startTestGateway();
    try {
      for (let i = 0; i < 12; i++) {
        const res = await attempt(gw.url, { auth: { token: `local-guess-${i}` } });
        assert.ok(
          ["AUTH_TOKEN_MISMATCH", "AUTH_RATE_LIMITED"].includes(String(res.error?.details?.code)),
          JSON.stringify(res.error),
        );
      }
      const deviceLess = await attempt(gw.url, { scopes: ["operator.read"], auth: { token: TEST_TOKEN } });
      assert.equal(deviceLess.error?.details?.code, "AUTH_RATE_LIMITED", "the shared secret is locked out");

      // The owner's CLI signs with the owner key and also carries the configured token.
      const owner = await attempt(gw.url, {
        identity: gw.owner,
        scopes: ["operator.admin"],
        auth: { token: TEST_TOKEN },
      });
      assert.equal(owner.ok, true, JSON.stringify(owner.error));
      assert.equal(authOf(owner)?.method, "owner-key");
      assert.deepEqual(authOf(owner)?.scopes, ["operator.admin"]);

      const { identity, token } = pairDevice(gw, ["operator.write"]);
      const device = await attempt(gw.url, {
        identity,
        scopes: ["operator.write"],
        auth: { token: TEST_TOKEN, deviceToken: token },
      });
      assert.equal(device.ok, true, JSON.stringify(device.error));
      assert.equal(authOf(device)?.method, "device-token");
    } finally {
      await gw.stop();
    }
  });

  it("C23: a revoked admin device redeeming an operator-limited setup code gets nothing back; a code's token carries only its profile", async () => {
    const gw = await startTestGateway({ autoApproveLocal: false });
    try {
      const ownerPeer = await openPeer(gw.url);
      assert.equal(
        (await sendConnect(ownerPeer, { identity: gw.owner, scopes: ["operator.admin"] })).ok,
        true,
      );
      const mint = async () => {
        const res = await call(ownerPeer, "device.pair.setupCode", { profile: "operator-limited" });
        assert.equal(res.ok, true, JSON.stringify(res.error));
        return (res.payload as { code: string }).code;
      };

      const admin = pairDevice(gw, ["operator.admin", "operator.approvals", "operator.pairing"]);
      const revoked = await call(ownerPeer, "device.token.revoke", {
        deviceId: admin.identity.deviceId,
        role: "operator",
      });
      assert.equal(revoked.ok, true, JSON.stringify(revoked.error));

      const code = await mint();
      const res = await attempt(
        gw.url,
        { identity: admin.identity, scopes: ["operator.read"], auth: { bootstrapToken: code } },
        REMOTE,
      );
      assert.equal(res.ok, false, `a revoked admin device was admitted: ${JSON.stringify(res.payload)}`);
      assert.equal(res.error?.details?.code, "PAIRING_REQUIRED");
      assert.equal(res.error?.details?.reason, "role-upgrade");
      const requestId = String(res.error?.details?.requestId);
      // Still revoked, the code still unspent, and the request asks for the whole baseline.
      const states = gw.store.tokens.states(admin.identity.deviceId);
      assert.equal(states.operator?.revoked, true);
      assert.equal(gw.store.setupCodes.lookup(normalizeSetupCode(code)!, Date.now()).kind, "valid");
      const pending = gw.store.pending.get(requestId, Date.now());
      assert.ok(pending?.scopes.includes("operator.admin"), JSON.stringify(pending));

      // A device whose operator role is live, approved for admin: the code's token carries the profile only.
      const live = pairDevice(gw, ["operator.admin"]);
      const second = await attempt(gw.url, {
        identity: live.identity,
        scopes: ["operator.read"],
        auth: { bootstrapToken: await mint() },
      });
      assert.equal(second.ok, true, JSON.stringify(second.error));
      assert.equal(authOf(second)?.method, "setup-code");
      assert.deepEqual(authOf(second)?.deviceTokens?.[0]?.scopes, [
        "operator.approvals",
        "operator.read",
        "operator.write",
      ]);
      ownerPeer.ws.close();
    } finally {
      await gw.stop();
    }
  });
});
