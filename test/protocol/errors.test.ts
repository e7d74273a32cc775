import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CLOSE_CODES,
  ERROR_TABLE,
  errorMeaning,
  GatewayError,
  WIRE_ERROR_CODES,
  truncateCloseReason,
  type GatewayErrorCode,
} from "../../src/protocol/errors.js";
import { validateResponseFrame } from "../../src/protocol/validate.js";
import { unauthorizedError } from "../../src/gateway/auth-errors.js";
import { GatewayClientError } from "../../src/client/errors.js";
import { shouldPauseReconnect } from "../../src/client/pause.js";
import { remedyFor } from "../../src/cli/explain/remedy.js";

const ALL_CODES = Object.keys(ERROR_TABLE) as GatewayErrorCode[];
const utf8Len = (s: string) => Buffer.byteLength(s, "utf8");

/** Handshake rejections: each is followed by close 1008 (reference §1.10). */
const HANDSHAKE_1008: GatewayErrorCode[] = [
  "INVALID_FRAME",
  "HANDSHAKE_NOT_CONNECT",
  "INVALID_CONNECT_PARAMS",
  "INVALID_ROLE",
  "CONTROL_UI_ORIGIN_NOT_ALLOWED",
  "DEVICE_AUTH_DEVICE_ID_MISMATCH",
  "DEVICE_AUTH_SIGNATURE_EXPIRED",
  "DEVICE_AUTH_NONCE_REQUIRED",
  "DEVICE_AUTH_NONCE_MISMATCH",
  "DEVICE_AUTH_SIGNATURE_INVALID",
  "DEVICE_AUTH_PUBLIC_KEY_INVALID",
  "AUTH_REQUIRED",
  "AUTH_UNAUTHORIZED",
  "AUTH_IDENTITY_HEADER_REQUIRED",
  "AUTH_TRUSTED_PROXY_UNTRUSTED_SOURCE",
  "AUTH_TRUSTED_PROXY_ASSERTION_INVALID",
  "AUTH_TRUSTED_PROXY_USER_NOT_ALLOWED",
  "AUTH_TOKEN_MISSING",
  "AUTH_TOKEN_MISMATCH",
  "AUTH_TOKEN_NOT_CONFIGURED",
  "AUTH_PASSWORD_MISSING",
  "AUTH_PASSWORD_MISMATCH",
  "AUTH_PASSWORD_NOT_CONFIGURED",
  "AUTH_DEVICE_TOKEN_MISMATCH",
  "AUTH_BOOTSTRAP_TOKEN_INVALID",
  "AUTH_SCOPE_MISMATCH",
  "AUTH_RATE_LIMITED",
  "DEVICE_IDENTITY_REQUIRED",
  "CONTROL_UI_DEVICE_IDENTITY_REQUIRED",
  "PAIRING_REQUIRED",
];

/** Post-hello method errors: the socket stays open. */
const METHOD_LEVEL: GatewayErrorCode[] = [
  "UNKNOWN_METHOD",
  "INVALID_PARAMS",
  "MISSING_SCOPE",
  "ROLE_NOT_ALLOWED",
  "DUPLICATE_CONNECT",
  "FORBIDDEN_ACTION",
  "NODE_COMMAND_NOT_APPROVED",
  "INTERNAL_ERROR",
  "SANDBOX_UNAVAILABLE",
];

/** The device-proof table of reference §1.9. */
const DEVICE_PROOF: [GatewayErrorCode, string, string][] = [
  ["DEVICE_AUTH_DEVICE_ID_MISMATCH", "device-id-mismatch", "device identity mismatch"],
  ["DEVICE_AUTH_SIGNATURE_EXPIRED", "device-signature-stale", "device signature expired"],
  ["DEVICE_AUTH_NONCE_REQUIRED", "device-nonce-missing", "device nonce required"],
  ["DEVICE_AUTH_NONCE_MISMATCH", "device-nonce-mismatch", "device nonce mismatch"],
  ["DEVICE_AUTH_SIGNATURE_INVALID", "device-signature", "device signature invalid"],
  ["DEVICE_AUTH_PUBLIC_KEY_INVALID", "device-public-key", "device public key invalid"],
];

describe("error table", () => {
  test("every row's wire code is one of the protocol's error codes", () => {
    for (const code of ALL_CODES) {
      assert.ok(
        (WIRE_ERROR_CODES as readonly string[]).includes(ERROR_TABLE[code].wire),
        `${code} → ${ERROR_TABLE[code].wire}`,
      );
    }
  });

  test("the wire codes are exactly the reference ErrorCodes", () => {
    assert.deepEqual([...WIRE_ERROR_CODES].sort(), [
      "AGENT_RESULT_NOT_FOUND",
      "AGENT_TIMEOUT",
      "APPROVAL_NOT_FOUND",
      "FORBIDDEN",
      "INVALID_REQUEST",
      "NOT_LINKED",
      "NOT_PAIRED",
      "UNAVAILABLE",
    ]);
  });

  test("every code builds an error whose details.code is the table key", () => {
    for (const code of ALL_CODES) {
      const err = new GatewayError(code);
      assert.ok(err instanceof Error);
      assert.equal(err.name, "GatewayError");
      assert.equal(err.code, code);
      assert.equal(err.details.code, code);
      assert.equal(err.wireCode, ERROR_TABLE[code].wire);
      assert.equal(err.closeCode, ERROR_TABLE[code].close);
      assert.equal(err.message, ERROR_TABLE[code].message);
      assert.ok(err.message.length > 0);
    }
  });

  test("close codes have their protocol values", () => {
    assert.deepEqual(CLOSE_CODES, {
      normal: 1000,
      protocolMismatch: 1002,
      policy: 1008,
      tooBig: 1009,
      serviceRestart: 1012,
      tryAgainLater: 1013,
      credentialsChanged: 4001,
    });
  });
});

describe("error meaning: the table's columns are what gateway, client and CLI act on", () => {
  const row = (code: GatewayErrorCode) => errorMeaning(code);

  test("retry is 'none' exactly for the method-level rows, which keep the socket open", () => {
    for (const code of ALL_CODES) {
      assert.equal(row(code).retry === "none", row(code).close === null, code);
    }
  });

  test("every unauthorized refusal sends the table's authReason and recommendedNextStep", () => {
    for (const code of ALL_CODES.filter((c) => c.startsWith("AUTH_"))) {
      const { authReason, nextStep } = row(code);
      assert.ok(authReason && nextStep, `${code} has an authReason and a nextStep`);
      const err = unauthorizedError(code, { id: "cli", mode: "cli" });
      assert.equal(err.details.authReason, authReason, code);
      assert.equal(err.details.recommendedNextStep, nextStep, code);
    }
  });

  test("a shared-secret hint is worded for the client's kind; other hints are the table's", () => {
    const cli = { id: "cli", mode: "cli" };
    const ui = { id: "openclaw-control-ui", mode: "webchat" };
    const other = { id: "gateway-client", mode: "backend" };
    assert.match(
      unauthorizedError("AUTH_TOKEN_MISMATCH", cli).message,
      /\(pass --token or set GATEHOUSE_GATEWAY_TOKEN/,
    );
    assert.match(
      unauthorizedError("AUTH_PASSWORD_MISSING", ui).message,
      /paste the gateway password on this page\)$/,
    );
    assert.match(unauthorizedError("AUTH_TOKEN_MISSING", other).message, /\(provide gateway auth token\)$/);
    assert.equal(
      unauthorizedError("AUTH_BOOTSTRAP_TOKEN_INVALID", ui).message,
      `${ERROR_TABLE.AUTH_BOOTSTRAP_TOKEN_INVALID.message} (${ERROR_TABLE.AUTH_BOOTSTRAP_TOKEN_INVALID.hint})`,
    );
    assert.equal(
      unauthorizedError("AUTH_RUNTIME_TOKEN_INVALID", cli).message,
      ERROR_TABLE.AUTH_RUNTIME_TOKEN_INVALID.message,
    );
  });

  test("the client stops reconnecting exactly on the rows whose retry is pause or wait", () => {
    for (const code of ALL_CODES) {
      const err = new GatewayClientError("HANDSHAKE_REJECTED", "refused", {
        detailCode: code,
        details: { code },
      });
      const expected = row(code).retry === "pause" || row(code).retry === "wait";
      assert.equal(shouldPauseReconnect(err), expected, code);
    }
    const waiting = new GatewayClientError("HANDSHAKE_REJECTED", "pending", {
      detailCode: "PAIRING_REQUIRED",
      details: { code: "PAIRING_REQUIRED", pauseReconnect: false },
    });
    assert.equal(shouldPauseReconnect(waiting), false, "a bootstrap flow asks to keep trying");
  });

  test("gatehouse explain's remedy for a refusal is the table's remedy column", () => {
    for (const code of ALL_CODES.filter((c) => c !== "AUTH_SCOPE_MISMATCH")) {
      const remedy = row(code).remedy;
      if (!remedy) continue;
      const got = remedyFor({
        decision: "reject",
        reason: code,
        trace: [],
        scopes: null,
        request: null,
        deviceId: null,
        role: null,
      });
      assert.deepEqual(got, remedy, code);
    }
  });
});

describe("device-proof failures (reference §1.9 table)", () => {
  for (const [code, reason, message] of DEVICE_PROOF) {
    test(`${code}: reason ${reason}, message "${message}", INVALID_REQUEST, close 1008`, () => {
      const err = new GatewayError(code);
      assert.equal(err.message, message);
      assert.equal(err.wireCode, "INVALID_REQUEST");
      assert.equal(err.closeCode, 1008);
      assert.equal(err.closeReason, message);
      assert.deepEqual(err.details, { code, reason });
      assert.deepEqual(err.toErrorShape(), { code: "INVALID_REQUEST", message, details: { code, reason } });
    });
  }

  test("no other row carries a details.reason", () => {
    const proofCodes = new Set(DEVICE_PROOF.map(([c]) => c));
    for (const code of ALL_CODES.filter((c) => !proofCodes.has(c))) {
      assert.equal("reason" in new GatewayError(code).details, false, code);
    }
  });
});

describe("close codes by kind", () => {
  test("PROTOCOL_MISMATCH closes 1002 with reason 'protocol mismatch' and carries negotiation details", () => {
    const details = {
      clientMinProtocol: 1,
      clientMaxProtocol: 3,
      expectedProtocol: 4,
      minimumProbeProtocol: 3,
    };
    const err = new GatewayError("PROTOCOL_MISMATCH", { details });
    assert.equal(err.closeCode, 1002);
    assert.equal(err.closeReason, "protocol mismatch");
    assert.deepEqual(err.toErrorShape(), {
      code: "INVALID_REQUEST",
      message: "protocol mismatch",
      details: { code: "PROTOCOL_MISMATCH", ...details },
    });
  });

  for (const code of HANDSHAKE_1008) {
    test(`${code} closes 1008`, () => {
      assert.equal(new GatewayError(code).closeCode, 1008);
    });
  }

  test("exactly the method-level errors keep the socket open", () => {
    const open = ALL_CODES.filter((c) => new GatewayError(c).closeCode === null).sort();
    assert.deepEqual(open, [...METHOD_LEVEL].sort());
  });

  test("MISSING_SCOPE is FORBIDDEN and keeps the socket open", () => {
    const err = new GatewayError("MISSING_SCOPE", {
      message: "missing scope: operator.admin",
      details: { missingScope: "operator.admin", requiredScopes: ["operator.admin"] },
    });
    assert.equal(err.wireCode, "FORBIDDEN");
    assert.equal(err.closeCode, null);
    assert.deepEqual(err.toErrorShape(), {
      code: "FORBIDDEN",
      message: "missing scope: operator.admin",
      details: { code: "MISSING_SCOPE", missingScope: "operator.admin", requiredScopes: ["operator.admin"] },
    });
  });

  test("UNKNOWN_METHOD is INVALID_REQUEST and keeps the socket open", () => {
    const err = new GatewayError("UNKNOWN_METHOD");
    assert.equal(err.wireCode, "INVALID_REQUEST");
    assert.equal(err.closeCode, null);
  });

  test("SHUTTING_DOWN closes 1012 (service restart)", () => {
    assert.equal(new GatewayError("SHUTTING_DOWN").closeCode, 1012);
    assert.equal(new GatewayError("SHUTTING_DOWN").wireCode, "UNAVAILABLE");
  });
});

describe("reference wire codes and messages of handshake rejections", () => {
  const rows: [GatewayErrorCode, string, string][] = [
    ["DEVICE_IDENTITY_REQUIRED", "NOT_PAIRED", "device identity required"],
    ["PAIRING_REQUIRED", "NOT_PAIRED", "pairing required"],
    [
      "CONTROL_UI_DEVICE_IDENTITY_REQUIRED",
      "INVALID_REQUEST",
      "control ui requires device identity (use HTTPS or localhost secure context)",
    ],
    [
      "CONTROL_UI_ORIGIN_NOT_ALLOWED",
      "INVALID_REQUEST",
      "origin not allowed (open the Control UI from the gateway host or allow it in gateway.controlUi.allowedOrigins)",
    ],
    ["INVALID_FRAME", "INVALID_REQUEST", "invalid request frame"],
    ["HANDSHAKE_NOT_CONNECT", "INVALID_REQUEST", "invalid handshake: first request must be connect"],
    ["INVALID_ROLE", "INVALID_REQUEST", "invalid role"],
    [
      "AUTH_TOKEN_NOT_CONFIGURED",
      "INVALID_REQUEST",
      "unauthorized: gateway token not configured on gateway (set gateway.auth.token)",
    ],
  ];
  for (const [code, wire, message] of rows) {
    test(`${code} → ${wire} "${message}"`, () => {
      const err = new GatewayError(code);
      assert.equal(err.wireCode, wire);
      assert.equal(err.message, message);
    });
  }

  test("credential failures are INVALID_REQUEST messages starting with 'unauthorized'", () => {
    for (const code of ALL_CODES.filter((c) => c.startsWith("AUTH_"))) {
      const err = new GatewayError(code);
      assert.equal(err.wireCode, "INVALID_REQUEST", code);
      assert.match(err.message, /^unauthorized/, code);
    }
  });

  test("AUTH_DEVICE_TOKEN_MISMATCH close reason contains 'device token mismatch' (clients clear their token on it)", () => {
    assert.match(new GatewayError("AUTH_DEVICE_TOKEN_MISMATCH").closeReason, /device token mismatch/);
  });

  test("origin rejection close reason fits the WebSocket limit", () => {
    const err = new GatewayError("CONTROL_UI_ORIGIN_NOT_ALLOWED");
    assert.ok(utf8Len(err.closeReason) <= 123);
    assert.ok(err.message.startsWith(err.closeReason));
  });
});

describe("toErrorShape", () => {
  test("default shape is exactly {code, message, details}", () => {
    const shape = new GatewayError("DEVICE_IDENTITY_REQUIRED").toErrorShape();
    assert.deepEqual(shape, {
      code: "NOT_PAIRED",
      message: "device identity required",
      details: { code: "DEVICE_IDENTITY_REQUIRED" },
    });
    assert.deepEqual(Object.keys(shape).sort(), ["code", "details", "message"]);
  });

  test("message override, extra details, retryable and retryAfterMs", () => {
    const err = new GatewayError("PAIRING_REQUIRED", {
      message: "pairing required: device is not approved yet",
      details: { reason: "not-paired", requestId: "req-1" },
      retryable: true,
      retryAfterMs: 500,
    });
    assert.deepEqual(err.toErrorShape(), {
      code: "NOT_PAIRED",
      message: "pairing required: device is not approved yet",
      details: { code: "PAIRING_REQUIRED", reason: "not-paired", requestId: "req-1" },
      retryable: true,
      retryAfterMs: 500,
    });
    assert.equal(err.closeReason, "pairing required: device is not approved yet");
  });

  test("retryable:false is sent, not dropped", () => {
    assert.equal(new GatewayError("INTERNAL_ERROR", { retryable: false }).toErrorShape().retryable, false);
  });

  test("a closeReason override replaces only the close reason", () => {
    const err = new GatewayError("PAIRING_REQUIRED", { closeReason: "pairing required (requestId: r-1)" });
    assert.equal(err.closeReason, "pairing required (requestId: r-1)");
    assert.equal(err.message, "pairing required");
  });

  test("the shape is a valid ResponseFrame error and survives JSON", () => {
    for (const code of ALL_CODES) {
      const shape = JSON.parse(JSON.stringify(new GatewayError(code, { retryAfterMs: 10 }).toErrorShape()));
      const frame = validateResponseFrame({ type: "res", id: "1", ok: false, error: shape });
      assert.ok(frame.ok, `${code}: ${JSON.stringify(frame)}`);
    }
  });

  test("a long message is truncated in the close reason but kept whole in the error", () => {
    const message = "pairing required: " + "x".repeat(300);
    const err = new GatewayError("PAIRING_REQUIRED", { message });
    assert.equal(err.message, message);
    assert.equal(err.toErrorShape().message, message);
    assert.equal(err.closeReason, message.slice(0, 123));
  });
});

/** The result is the longest prefix of whole code points that fits in 123 UTF-8 bytes. */
function assertGoodTruncation(input: string): void {
  const out = truncateCloseReason(input);
  assert.ok(utf8Len(out) <= 123, `${utf8Len(out)} bytes`);
  assert.ok(input.startsWith(out), "result is a prefix");
  if (out.length < input.length) {
    const next = String.fromCodePoint(input.codePointAt(out.length) ?? 0);
    assert.ok(utf8Len(out + next) > 123, "could have kept one more character");
  }
  // No split surrogate pair at the cut.
  const last = out.charCodeAt(out.length - 1);
  if (out.length > 0 && last >= 0xd800 && last <= 0xdbff) assert.fail("ends in a lone high surrogate");
}

describe("truncateCloseReason", () => {
  test("short reasons are unchanged", () => {
    assert.equal(truncateCloseReason(""), "");
    assert.equal(truncateCloseReason("protocol mismatch"), "protocol mismatch");
  });

  test("exactly 123 ASCII bytes are unchanged; 124 lose one", () => {
    assert.equal(truncateCloseReason("a".repeat(123)), "a".repeat(123));
    assert.equal(truncateCloseReason("a".repeat(124)), "a".repeat(123));
  });

  test("2-byte characters are not split (62 × é = 124 bytes → 61 × é)", () => {
    assert.equal(truncateCloseReason("é".repeat(62)), "é".repeat(61));
  });

  test("3-byte characters are not split", () => {
    const out = truncateCloseReason("ab" + "€".repeat(41));
    assert.equal(out, "ab" + "€".repeat(40));
    assert.equal(utf8Len(out), 122);
  });

  test("4-byte characters (surrogate pairs) are not split", () => {
    const out = truncateCloseReason("😀".repeat(31));
    assert.equal(out, "😀".repeat(30));
    assert.equal(utf8Len(out), 120);
    assert.equal(Buffer.from(out, "utf8").toString("utf8"), out);
  });

  test("a multi-byte character straddling byte 123 is dropped whole", () => {
    const input = "a".repeat(122) + "é" + "tail";
    assert.equal(truncateCloseReason(input), "a".repeat(122));
  });

  test("property: longest whole-character prefix within 123 bytes", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (s) => {
        assertGoodTruncation(s);
      }),
      { numRuns: 500 },
    );
  });
});
