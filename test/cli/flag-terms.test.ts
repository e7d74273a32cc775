/**
 * Issue 14 item 5: the CLI's errors name its flags, never the library options behind them
 * (`--allow-insecure`, not `allowInsecure: true`; `--tls-fingerprint`, not `tlsFingerprint`).
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { runCli } from "../helpers/gateway-process.js";

const sandbox = createCliSandbox();
after(() => sandbox.cleanup());

describe("errors in the CLI's own words", () => {
  it("plain ws:// elsewhere, and a pin on ws://: the flags are named, the library options are not", async () => {
    const dir = sandbox.stateDir();
    const insecure = await runCli(
      ["health", "--url", "ws://192.0.2.10:18789", "--state-dir", dir],
      sandbox.env,
    );
    assert.equal(insecure.code, 2, insecure.stderr);
    assert.match(insecure.stderr, /^error INSECURE_URL: .* — use wss:\/\/, or pass --allow-insecure/m);
    assert.doesNotMatch(insecure.stderr, /allowInsecure/);

    const pin = "ab".repeat(32);
    const pinned = await runCli(
      ["health", "--url", "ws://127.0.0.1:9", "--tls-fingerprint", pin, "--state-dir", dir],
      sandbox.env,
    );
    assert.equal(pinned.code, 2, pinned.stderr);
    assert.match(pinned.stderr, /--tls-fingerprint pins a TLS certificate, but ws:\/\/ has none/);
    assert.doesNotMatch(pinned.stderr, /tlsFingerprint/);
  });
});
