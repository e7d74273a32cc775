import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { buildChildEnv, checkCallerEnv, isWithheldName } from "../../src/runtime/child-env.js";
import { OutputTail } from "../../src/runtime/output-tail.js";

const SHARED = "shared-secret-0123456789abcdef";

describe("a child's environment", () => {
  test("inherits the gateway's environment minus GATEHOUSE_* and anything named like a credential", () => {
    const env = buildChildEnv({
      inherited: {
        PATH: "/usr/bin",
        HOME: "/home/u",
        LANG: "C.UTF-8",
        GATEHOUSE_GATEWAY_TOKEN: SHARED,
        GATEHOUSE_GATEWAY_PASSWORD: "pw-pw-pw-pw",
        GATEHOUSE_RUNTIME_TOKEN: "the-gateways-own-runtime-token",
        GATEHOUSE_STATE_DIR: "/home/u/.gatehouse",
        gatehouse_gateway_token: SHARED,
        OPENAI_API_KEY: "sk-123",
        GITHUB_TOKEN: "ghp_x",
        DB_PASSWORD: "p",
        AWS_SECRET_ACCESS_KEY: "a",
        MY_PRIVATE_THING: "b",
        SSH_AUTH_SOCK: "/tmp/agent",
        innocent_looking: `prefix ${SHARED} suffix`,
        UNSET: undefined,
      },
      extra: { CHILD_SETTING: "1", API_KEY_FOR_CHILD: "given-by-caller" },
      secretValues: [SHARED],
      gatewayUrl: "ws://127.0.0.1:1234",
      runtimeToken: "rt",
      scopes: ["operator.read", "operator.write"],
      sessionId: "sess_1",
    });
    assert.deepEqual(env, {
      PATH: "/usr/bin",
      HOME: "/home/u",
      LANG: "C.UTF-8",
      CHILD_SETTING: "1",
      API_KEY_FOR_CHILD: "given-by-caller",
      GATEHOUSE_GATEWAY_URL: "ws://127.0.0.1:1234",
      GATEHOUSE_RUNTIME_TOKEN: "rt",
      GATEHOUSE_RUNTIME_SCOPES: "operator.read,operator.write",
      GATEHOUSE_SESSION_ID: "sess_1",
    });
  });

  test("where Node and OpenSSL find trusted CAs is inherited: the job's own TLS may need a private CA", () => {
    // Costly for every Node child (bench/README.md), but a gateway cannot know what its jobs reach.
    const ca = {
      NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/corp-ca.pem",
      SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt",
      SSL_CERT_DIR: "/etc/ssl/certs",
    };
    const env = buildChildEnv({
      inherited: { PATH: "/usr/bin", ...ca },
      gatewayUrl: "ws://127.0.0.1:1234",
      runtimeToken: "rt",
      scopes: [],
      sessionId: "sess_1",
    });
    for (const [name, value] of Object.entries(ca)) assert.equal(env[name], value, name);
  });

  test("a device or runtime token the gateway issued is withheld whatever the variable is called", () => {
    const issued = "A".repeat(43);
    const other = "B".repeat(43);
    const env = buildChildEnv({
      inherited: { PLAIN: issued, EMBEDDED: `x=${issued};y=1`, UNRELATED: other, LONGER_RUN: `${issued}C` },
      isCredential: (text) => text === issued,
      gatewayUrl: "ws://127.0.0.1:1",
      runtimeToken: "rt",
      scopes: [],
      sessionId: "s",
    });
    assert.equal(env.PLAIN, undefined);
    assert.equal(env.EMBEDDED, undefined);
    assert.equal(env.UNRELATED, other, "token-shaped but not issued by this gateway: kept");
    assert.equal(env.LONGER_RUN, `${issued}C`, "not token-shaped (44 characters)");
    assert.equal(checkCallerEnv({ HANDED_ON: issued }, [], (t) => t === issued)?.field, "env.HANDED_ON");
  });

  test("withheld names are matched in any case", () => {
    for (const name of [
      "api_key",
      "Token",
      "x_passwd",
      "Client_Secret",
      "GATEHOUSE_PORT",
      "aws_credentials_file",
    ]) {
      assert.equal(isWithheldName(name), true, name);
    }
    for (const name of ["PATH", "HOME", "NODE_OPTIONS", "TERM"])
      assert.equal(isWithheldName(name), false, name);
  });

  test("a caller may not set GATEHOUSE_* names nor hand the shared secret to a child", () => {
    assert.equal(checkCallerEnv({ FOO: "bar" }, [SHARED]), null);
    assert.deepEqual(
      checkCallerEnv({ GATEHOUSE_RUNTIME_TOKEN: "x" }, [SHARED])?.field,
      "env.GATEHOUSE_RUNTIME_TOKEN",
    );
    assert.deepEqual(
      checkCallerEnv({ gatehouse_gateway_url: "x" }, [SHARED])?.field,
      "env.gatehouse_gateway_url",
    );
    const leak = checkCallerEnv({ CONFIG: `token=${SHARED}` }, [SHARED]);
    assert.equal(leak?.field, "env.CONFIG");
    assert.equal(leak?.message.includes(SHARED), false, "the message never repeats the secret");
  });
});

describe("output tail", () => {
  test("keeps the last N bytes, whatever the chunking", () => {
    const tail = new OutputTail(10);
    for (const c of ["abc", "defgh", "ijklmnop", "q"]) tail.push(Buffer.from(c));
    assert.equal(tail.text(), "hijklmnopq");
    assert.equal(tail.droppedBytes, 7);
    tail.push(Buffer.from("0123456789ABCDEF"));
    assert.equal(tail.text(), "6789ABCDEF");
  });

  test("a multi-byte character cut at the front is skipped, not shown as garbage", () => {
    const tail = new OutputTail(5);
    tail.push(Buffer.from("ab✓cd")); // 7 bytes; the last 5 start exactly at ✓
    assert.equal(tail.text(), "✓cd");
    const cut = new OutputTail(4);
    cut.push(Buffer.from("a✓cd"));
    assert.equal(cut.text(), "cd");
  });
});
