/**
 * How the admission decision reads presented credentials (C17, C23, S07, S43): the limiter's state
 * (a locked-out credential counts as absent), what is charged and forgiven, the token slot of older
 * clients, a device's own spent setup code, the remote rule that keeps `hello-ok` from confirming
 * a guessed shared secret, and `settle()` — named cases, then an exhaustive sweep of that space.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  decide,
  type AdmissionFacts,
  type CredentialKind,
  type Decision,
  type DeviceTokenCheck,
  type Lockouts,
  type RuntimeTokenCheck,
  type SetupCodeCheck,
  type SharedAuthResult,
  type StoredDeviceFacts,
} from "../../src/policy/admission.js";
import { isRuleId } from "../../src/policy/rules.js";
import { settle, type ApplyResult } from "../../src/policy/settle.js";
import {
  ADMIN,
  APPROVALS,
  admitted,
  approved,
  device,
  facts,
  FULL_BASELINE,
  LANES,
  LOCAL,
  NODE_X,
  NONE_OK,
  OWNER_DEVICE,
  OWNER_RECORD,
  pended,
  READ,
  record,
  rejected,
  REMOTE,
  run,
  TOKEN_MISMATCH,
  TOKEN_MISSING,
  TOKEN_OK,
  WRITE,
  type Device,
  type Role,
} from "./admission-fixtures.js";

const LOCKED: Lockouts = { "shared-secret": 240_000 };
const LIMITED_CODE: SetupCodeCheck = { kind: "valid", roles: ["operator"], scopes: [APPROVALS, READ, WRITE] };
/** An admin device whose operator token was revoked (the "revoked admin device"). */
const REVOKED_ADMIN = record({
  roles: ["operator"],
  scopes: [ADMIN, APPROVALS, READ, WRITE],
  tokens: { operator: { revoked: true, scopes: [ADMIN] } },
});
const ADMIN_RECORD = record({
  roles: ["operator"],
  scopes: [ADMIN],
  tokens: { operator: { revoked: false, scopes: [ADMIN] } },
});

describe("a locked-out credential counts as absent (C17)", () => {
  test("the owner key is admitted while the shared secret it carries is locked out", () => {
    for (const sharedAuth of [TOKEN_OK, TOKEN_MISMATCH]) {
      const d = admitted(
        run(
          facts({
            device: OWNER_DEVICE,
            stored: OWNER_RECORD,
            sharedAuth,
            lockouts: LOCKED,
            requestedScopes: [ADMIN],
          }),
        ),
        [ADMIN],
      );
      assert.equal(d.credential, "owner-key");
      assert.deepEqual(d.charge, [], "a locked credential is not looked at, so not charged");
      assert.ok(d.trace.includes("shared-secret-locked-out"), d.trace.join(","));
    }
  });

  test("a valid device token is admitted while the shared secret beside it is locked out", () => {
    const d = admitted(
      run(
        facts({
          locality: REMOTE,
          stored: ADMIN_RECORD,
          sharedAuth: TOKEN_OK,
          deviceToken: { kind: "valid", scopes: [ADMIN] },
          lockouts: LOCKED,
          requestedScopes: [READ],
        }),
      ),
      [READ],
    );
    assert.equal(d.credential, "device-token");
  });

  test("nothing else presented: AUTH_RATE_LIMITED with the earliest retry, even for the right secret", () => {
    for (const sharedAuth of [TOKEN_OK, TOKEN_MISMATCH]) {
      const d = rejected(
        run(facts({ sharedAuth, lockouts: { "shared-secret": 90_000, "device-token": 30_000 } })),
        "AUTH_RATE_LIMITED",
      );
      assert.equal(d.retryAfterMs, 90_000, "the device token was not presented: its lock does not count");
      assert.equal(d.trace.at(-1), "locked-out-without-other-proof");
    }
    const both = rejected(
      run(
        facts({
          sharedAuth: TOKEN_OK,
          stored: ADMIN_RECORD,
          deviceToken: { kind: "valid", scopes: [ADMIN] },
          lockouts: { "shared-secret": 90_000, "device-token": 30_000 },
        }),
      ),
      "AUTH_RATE_LIMITED",
    );
    assert.equal(both.retryAfterMs, 30_000);
  });

  test("a locked setup code is absent: beside a device token it is not refused, alone it is a wait", () => {
    const d = admitted(
      run(
        facts({
          stored: ADMIN_RECORD,
          sharedAuth: TOKEN_MISSING,
          deviceToken: { kind: "valid", scopes: [ADMIN] },
          setupCode: { kind: "invalid" },
          lockouts: { "setup-code": 1000 },
        }),
      ),
      [READ],
    );
    assert.equal(d.credential, "device-token");
    rejected(
      run(facts({ sharedAuth: TOKEN_MISSING, setupCode: LIMITED_CODE, lockouts: { "setup-code": 1000 } })),
      "AUTH_RATE_LIMITED",
    );
  });

  test("a locked runtime token is absent for a device-less job", () => {
    rejected(
      run(
        facts({
          device: null,
          sharedAuth: TOKEN_MISSING,
          runtimeToken: { kind: "valid", scopes: [READ], jobId: "job-1" },
          lockouts: { "runtime-token": 5000 },
        }),
      ),
      "AUTH_RATE_LIMITED",
    );
  });
});

describe("what is charged and forgiven", () => {
  test("a provided wrong shared secret is charged whatever admits the connect", () => {
    const cases: Array<[string, Partial<AdmissionFacts>]> = [
      ["owner key", { device: OWNER_DEVICE, stored: OWNER_RECORD }],
      ["valid device token", { stored: ADMIN_RECORD, deviceToken: { kind: "valid", scopes: [ADMIN] } }],
      ["valid setup code", { setupCode: LIMITED_CODE }],
      ["refused", {}],
    ];
    for (const [name, o] of cases) {
      const d = run(facts({ locality: REMOTE, sharedAuth: TOKEN_MISMATCH, ...o }));
      assert.ok(d.charge.includes("shared-secret"), `${name}: ${JSON.stringify(d)}`);
      assert.ok(!d.clear.includes("shared-secret"), name);
    }
  });

  test("the credential that proved the connect is forgiven; a refusal forgives nothing", () => {
    assert.deepEqual(run(facts({ locality: REMOTE, stored: record() })).clear, ["shared-secret"]);
    const byToken = run(
      facts({
        stored: record(),
        sharedAuth: TOKEN_MISSING,
        deviceToken: { kind: "valid", scopes: [READ] },
      }),
    );
    assert.deepEqual([byToken.clear, byToken.charge], [["device-token"], []]);
    const owner = run(facts({ device: OWNER_DEVICE, stored: OWNER_RECORD }));
    assert.deepEqual(owner.clear, [], "the owner key draws on no budget");
    const refused = run(facts({ sharedAuth: TOKEN_MISSING, deviceToken: { kind: "mismatch" } }));
    assert.deepEqual([refused.clear, refused.charge], [[], ["device-token"]]);
  });

  test("a wrong device token beside a right shared secret is charged; the secret carries the connect (S13)", () => {
    const d = admitted(
      run(
        facts({
          locality: REMOTE,
          stored: ADMIN_RECORD,
          deviceToken: { kind: "revoked" },
          requestedScopes: [ADMIN],
        }),
      ),
      [ADMIN],
    );
    assert.deepEqual([d.credential, d.charge, d.clear], ["token", ["device-token"], ["shared-secret"]]);
  });

  test("an invalid setup code or runtime token is charged to its own budget", () => {
    assert.deepEqual(run(facts({ setupCode: { kind: "invalid" } })).charge, ["setup-code"]);
    assert.deepEqual(
      run(facts({ device: null, sharedAuth: TOKEN_MISSING, runtimeToken: { kind: "invalid" } })).charge,
      ["runtime-token"],
    );
  });

  test("a device block that does not verify: refused with its code, nothing beside it read or charged", () => {
    const d = rejected(
      run(
        facts({
          device: null,
          proofFailure: "DEVICE_AUTH_SIGNATURE_EXPIRED",
          sharedAuth: TOKEN_MISMATCH,
          deviceToken: { kind: "mismatch" },
        }),
      ),
      "DEVICE_AUTH_SIGNATURE_EXPIRED",
    );
    assert.deepEqual([d.charge, d.trace.at(-1)], [[], "device-proof-invalid"]);
  });
});

describe("a valid device token and a shared-secret guess from a remote address", () => {
  const base = (sharedAuth: SharedAuthResult) =>
    facts({
      locality: REMOTE,
      stored: ADMIN_RECORD,
      sharedAuth,
      deviceToken: { kind: "valid", scopes: [ADMIN] },
      requestedScopes: [READ],
    });

  test("the device token admits either way: same credential, scopes and token; the wrong guess is charged", () => {
    const right = admitted(run(base(TOKEN_OK)), [READ]);
    const wrong = admitted(run(base(TOKEN_MISMATCH)), [READ]);
    for (const d of [right, wrong]) {
      assert.equal(d.credential, "device-token");
      assert.deepEqual(d.token, { action: "keep" });
    }
    assert.ok(right.trace.includes("shared-secret-unused-beside-device-token"));
    assert.deepEqual([right.charge, right.clear], [[], ["device-token"]], "a right guess is not forgiven");
    assert.deepEqual([wrong.charge, wrong.clear], [["shared-secret"], ["device-token"]]);
  });

  test("S07: on direct-local the shared secret still ranks first (owner-equivalent proof for silent upgrades)", () => {
    const d = run(facts({ ...base(TOKEN_OK), locality: LOCAL }));
    assert.equal(d.kind === "admit" && d.credential, "token");
    approved(
      run(
        facts({
          stored: record(),
          sharedAuth: TOKEN_OK,
          deviceToken: { kind: "valid", scopes: [READ] },
          requestedScopes: [ADMIN],
        }),
      ),
      { roles: ["operator"], scopes: [ADMIN, READ] },
    );
  });

  test("beyond the token the secret is what admits (a new token is issued); wrong, it is refused and charged", () => {
    const wide = record({ scopes: [ADMIN], tokens: { operator: { revoked: false, scopes: [READ] } } });
    const f = (sharedAuth: SharedAuthResult) =>
      facts({
        locality: REMOTE,
        stored: wide,
        sharedAuth,
        deviceToken: { kind: "valid", scopes: [READ] },
        requestedScopes: [WRITE],
      });
    const right = admitted(run(f(TOKEN_OK)), [WRITE]);
    assert.deepEqual([right.credential, right.token.action], ["token", "issue"]);
    const wrong = rejected(run(f(TOKEN_MISMATCH)), "AUTH_SCOPE_MISMATCH");
    assert.deepEqual(wrong.charge, ["shared-secret"]);
  });
});

describe("older clients: a device token in auth.token", () => {
  test("this device's own token in the token slot is a device token, not a wrong secret", () => {
    const d = admitted(
      run(
        facts({
          locality: REMOTE,
          stored: ADMIN_RECORD,
          sharedAuth: TOKEN_MISMATCH,
          tokenSlot: { kind: "valid", scopes: [ADMIN] },
        }),
      ),
      [READ],
    );
    assert.deepEqual([d.credential, d.charge], ["device-token", []]);
    assert.ok(d.trace.includes("device-token-in-token-slot"));
  });

  test("anything else in the token slot stays a wrong shared secret: refused with that reason, charged", () => {
    for (const tokenSlot of [{ kind: "mismatch" }, { kind: "revoked" }] as DeviceTokenCheck[]) {
      const d = rejected(
        run(facts({ stored: ADMIN_RECORD, sharedAuth: TOKEN_MISMATCH, tokenSlot })),
        "AUTH_TOKEN_MISMATCH",
      );
      assert.deepEqual(d.charge, ["shared-secret"]);
    }
  });

  test("an explicit auth.deviceToken wins over the slot", () => {
    const d = rejected(
      run(
        facts({
          stored: ADMIN_RECORD,
          sharedAuth: TOKEN_MISMATCH,
          deviceToken: { kind: "mismatch" },
          tokenSlot: { kind: "valid", scopes: [ADMIN] },
        }),
      ),
      "AUTH_DEVICE_TOKEN_MISMATCH",
    );
    assert.deepEqual(d.charge, ["shared-secret", "device-token"]);
  });
});

describe("setup codes and what they may not do (C23, S43, principle 7)", () => {
  test("a device's own spent code beside a working credential is ignored; alone it is a used code", () => {
    const spent: SetupCodeCheck = { kind: "spent-by-this-device" };
    const d = admitted(
      run(
        facts({
          locality: REMOTE,
          stored: ADMIN_RECORD,
          sharedAuth: TOKEN_MISSING,
          deviceToken: { kind: "valid", scopes: [ADMIN] },
          setupCode: spent,
        }),
      ),
      [READ],
    );
    assert.ok(d.trace.includes("own-spent-setup-code-ignored"));
    assert.deepEqual(d.charge, []);
    const alone = rejected(
      run(facts({ locality: REMOTE, stored: ADMIN_RECORD, sharedAuth: TOKEN_MISSING, setupCode: spent })),
      "AUTH_BOOTSTRAP_TOKEN_INVALID",
    );
    assert.deepEqual(alone.charge, ["setup-code"]);
  });

  test("a revoked admin device with an operator-limited code: nothing is approved, the code is not spent, it waits", () => {
    const d = pended(
      run(
        facts({
          locality: REMOTE,
          stored: REVOKED_ADMIN,
          sharedAuth: TOKEN_MISSING,
          deviceToken: { kind: "revoked" },
          setupCode: LIMITED_CODE,
        }),
      ),
      "role-upgrade",
      // The request is for the role's whole baseline: only someone who covers it can approve it.
      { roles: ["operator"], scopes: [ADMIN, APPROVALS, READ, WRITE] },
    );
    assert.equal(d.credential, "setup-code");
    assert.deepEqual(d.trace.slice(-3), [
      "setup-code-cannot-revive-revoked-role",
      "uncovered-role-upgrade",
      "setup-code-waits-for-approval",
    ]);
  });

  test("a code's token carries the profile only, never the device's older baseline", () => {
    const nodeAdmin = record({
      roles: ["node"],
      scopes: [ADMIN, NODE_X],
      tokens: { node: { revoked: false, scopes: [NODE_X] } },
    });
    const d = approved(
      run(facts({ locality: REMOTE, stored: nodeAdmin, sharedAuth: TOKEN_MISSING, setupCode: LIMITED_CODE })),
      { roles: ["node", "operator"], scopes: [NODE_X, ADMIN, APPROVALS, READ, WRITE].sort() },
    );
    assert.deepEqual(d.token, { action: "issue", scopes: [APPROVALS, READ, WRITE] });
  });
});

describe("settle: what applying found", () => {
  const viaCode = run(facts({ locality: REMOTE, sharedAuth: TOKEN_MISSING, setupCode: LIMITED_CODE }));
  const pend = run(facts({ locality: REMOTE }));

  test("a setup code redeemed by a racing device turns the approval into AUTH_BOOTSTRAP_TOKEN_INVALID", () => {
    const s = settle(viaCode, { kind: "setup-code-spent" });
    assert.equal(s.kind === "reject" && s.code, "AUTH_BOOTSTRAP_TOKEN_INVALID");
    assert.equal(s.trace.at(-1), "setup-code-redeemed-concurrently");
    assert.deepEqual([s.charge, s.clear], [[], []], "a live code that lost a race is no guess");
  });

  test("a pend gets its requestId, or the cap that refused it", () => {
    const opened = settle(pend, { kind: "pending", requestId: "r-1" });
    assert.equal(opened.kind === "pend" && opened.requestId, "r-1");
    const full = settle(pend, { kind: "pending-full", limit: "per-ip" });
    assert.equal(full.kind === "pend" && full.full, "per-ip");
    assert.equal(full.trace.at(-1), "pending-limit-reached");
  });

  test("total: every decision kind with every result settles, and only those two change anything", () => {
    const decisions: Decision[] = [
      viaCode,
      pend,
      run(facts({ stored: record(), locality: REMOTE })),
      run(facts()),
      run(facts({ sharedAuth: TOKEN_MISMATCH })),
    ];
    const results: ApplyResult[] = [
      { kind: "done" },
      { kind: "pending", requestId: "r" },
      { kind: "pending-full", limit: "total" },
      { kind: "setup-code-spent" },
    ];
    for (const d of decisions) {
      for (const r of results) {
        const s = settle(d, r);
        const changes =
          (d.kind === "approve-then-admit" &&
            d.credential === "setup-code" &&
            r.kind === "setup-code-spent") ||
          d.kind === "pend";
        if (!changes) assert.deepEqual(s, d);
        for (const rule of s.trace) assert.ok(isRuleId(rule), rule);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Exhaustive sweep of the credential space
// ---------------------------------------------------------------------------------------------

type Labeled<T> = readonly [label: string, value: T];

const KINDS: readonly CredentialKind[] = ["shared-secret", "device-token", "setup-code", "runtime-token"];

/** Which kinds a client put something in (the gateway asks the limiter about every kind). */
function presentedKinds(f: AdmissionFacts): CredentialKind[] {
  const out: CredentialKind[] = [];
  if (f.sharedAuth.ok ? f.sharedAuth.method !== "none" : f.sharedAuth.provided) out.push("shared-secret");
  if (f.deviceToken.kind !== "none" || (f.tokenSlot && f.tokenSlot.kind !== "none")) out.push("device-token");
  if (f.setupCode && f.setupCode.kind !== "none") out.push("setup-code");
  if (f.runtimeToken && f.runtimeToken.kind !== "none") out.push("runtime-token");
  return out;
}

/** The same connect with the locked credentials not presented at all (the oracle for "absent"). */
function withoutLocked(f: AdmissionFacts): AdmissionFacts {
  const locked = (k: CredentialKind) => f.lockouts?.[k] !== undefined;
  let sharedAuth = f.sharedAuth;
  if (locked("shared-secret") && !(sharedAuth.ok && sharedAuth.method === "none")) {
    const password = sharedAuth.ok
      ? sharedAuth.method === "password"
      : sharedAuth.code.startsWith("AUTH_PASSWORD");
    sharedAuth = {
      ok: false,
      code: password ? "AUTH_PASSWORD_MISSING" : "AUTH_TOKEN_MISSING",
      provided: false,
    };
  }
  return {
    ...f,
    sharedAuth,
    deviceToken: locked("device-token") ? { kind: "none" } : f.deviceToken,
    tokenSlot: locked("device-token") ? undefined : f.tokenSlot,
    setupCode: locked("setup-code") ? undefined : f.setupCode,
    runtimeToken: locked("runtime-token") ? undefined : f.runtimeToken,
    lockouts: undefined,
  };
}

/** What the client is told: the reply's content, without the trace and the limiter's bookkeeping. */
function reply(d: Decision): unknown {
  switch (d.kind) {
    case "admit":
      return [d.kind, d.credential, d.scopes, d.token, d.runtimeJobId];
    case "approve-then-admit":
      return [d.kind, d.credential, d.scopes, d.token, d.ask];
    case "pend":
      return [d.kind, d.reason, d.ask];
    case "reject":
      return [d.kind, d.code];
  }
}

const SHARED: Labeled<SharedAuthResult>[] = [
  ["token ok", TOKEN_OK],
  ["none-mode ok", NONE_OK],
  ["token missing", TOKEN_MISSING],
  ["token mismatch", TOKEN_MISMATCH],
];
const STORED: Labeled<StoredDeviceFacts | null>[] = [
  ["none", null],
  ["admin operator", ADMIN_RECORD],
  ["revoked admin", REVOKED_ADMIN],
  ["both roles, empty tokens", record({ roles: ["node", "operator"], scopes: FULL_BASELINE, tokens: {} })],
];
const TOKENS: Labeled<DeviceTokenCheck>[] = [
  ["none", { kind: "none" }],
  ["valid admin", { kind: "valid", scopes: [ADMIN] }],
  ["valid read", { kind: "valid", scopes: [READ] }],
  ["revoked", { kind: "revoked" }],
  ["mismatch", { kind: "mismatch" }],
];
const SLOTS: Labeled<DeviceTokenCheck | undefined>[] = [
  ["absent", undefined],
  ["valid admin", { kind: "valid", scopes: [ADMIN] }],
  ["mismatch", { kind: "mismatch" }],
];
const CODES: Labeled<SetupCodeCheck | undefined>[] = [
  ["none", undefined],
  ["invalid", { kind: "invalid" }],
  ["valid limited", LIMITED_CODE],
  ["spent by this device", { kind: "spent-by-this-device" }],
];
const RUNTIMES: Labeled<RuntimeTokenCheck | undefined>[] = [
  ["none", undefined],
  ["valid read", { kind: "valid", scopes: [READ], jobId: "job-1" }],
  ["invalid", { kind: "invalid" }],
];
const DEVICES: Labeled<Device | null>[] = [
  ["absent", null],
  ["non-owner", device()],
  ["owner", OWNER_DEVICE],
];

/** A token check consistent with the stored record (a valid or revoked one needs that row). */
function consistent(
  check: DeviceTokenCheck | undefined,
  stored: StoredDeviceFacts | null,
  role: Role,
): boolean {
  if (!check || check.kind === "none" || check.kind === "mismatch") return true;
  const row = stored?.tokens[role];
  if (!row) return false;
  return check.kind === "revoked" ? row.revoked : !row.revoked;
}

/** Checks the credential invariants on one combination. */
function checkCredentials(f: AdmissionFacts, label: () => string): void {
  const d = decide(f);
  const fail = (what: string) =>
    assert.fail(`${what}\n  facts: ${label()}\n  decision: ${JSON.stringify(d)}`);
  const locked = KINDS.filter((k) => f.lockouts?.[k] !== undefined);

  for (const rule of d.trace) if (!isRuleId(rule)) fail(`unknown rule ${rule}`);
  if (d.charge.some((k) => d.clear.includes(k))) fail("a credential both charged and cleared");
  if (d.kind === "reject" && d.clear.length > 0) fail("a refusal forgave a credential");
  if (d.charge.some((k) => locked.includes(k)) || d.clear.some((k) => locked.includes(k))) {
    fail("a locked-out credential was looked at (charged or forgiven)");
  }

  // Locked counts as absent: the same reply as without it, except that "no proof" becomes a wait.
  const e = decide(withoutLocked(f));
  if (JSON.stringify(d.charge) !== JSON.stringify(e.charge))
    fail(`charges differ from the absent case: ${JSON.stringify(e)}`);
  if (e.kind !== "reject" || locked.length === 0) {
    if (JSON.stringify(reply(d)) !== JSON.stringify(reply(e)))
      fail(`differs from the absent case: ${JSON.stringify(e)}`);
  } else if (d.kind !== "reject" || (d.code !== e.code && d.code !== "AUTH_RATE_LIMITED")) {
    fail(`a refusal without the locked credential became something else: ${JSON.stringify(e)}`);
  }

  // A provided wrong shared secret is charged whatever admits (unless locked, or it was a device token).
  const slotIsToken =
    f.tokenSlot?.kind === "valid" && f.deviceToken.kind === "none" && !locked.includes("device-token");
  const wrongSecret = !f.sharedAuth.ok && f.sharedAuth.provided && !locked.includes("shared-secret");
  if (
    !f.proofFailure &&
    wrongSecret !== d.charge.includes("shared-secret") &&
    !(slotIsToken && wrongSecret)
  ) {
    fail("a wrong shared secret was not charged, or a right one was");
  }
  if (slotIsToken && wrongSecret && d.charge.includes("shared-secret"))
    fail("a device token in the token slot was charged as a wrong secret");

  // The token slot holding this device's token reads exactly like auth.deviceToken.
  if (slotIsToken && !f.sharedAuth.ok) {
    const explicit = decide({
      ...f,
      deviceToken: f.tokenSlot!,
      tokenSlot: undefined,
      sharedAuth: { ok: false, code: "AUTH_TOKEN_MISSING", provided: false },
    });
    if (JSON.stringify(reply(explicit)) !== JSON.stringify(reply(d)))
      fail(`the token slot reads unlike auth.deviceToken: ${JSON.stringify(explicit)}`);
  }

  // A remote client admitted by its device token cannot tell from the reply whether its guess was right.
  if (
    !f.locality.directLocal &&
    f.device &&
    f.sharedAuth.ok === false &&
    f.sharedAuth.code === "AUTH_TOKEN_MISMATCH" &&
    f.tokenSlot === undefined
  ) {
    const right = decide({ ...f, sharedAuth: TOKEN_OK });
    if (d.kind === "admit" && JSON.stringify(reply(right)) !== JSON.stringify(reply(d))) {
      fail(`hello-ok tells a right guess from a wrong one: ${JSON.stringify(right)}`);
    }
  }

  // Own spent code: nothing beside a working credential, a used code otherwise.
  if (f.setupCode?.kind === "spent-by-this-device" && !locked.includes("setup-code")) {
    const none = decide({ ...f, setupCode: undefined });
    const invalid = decide({ ...f, setupCode: { kind: "invalid" } });
    const works = none.kind !== "reject" || f.device?.ownerKey === true;
    const same = JSON.stringify(reply(d));
    if (same !== JSON.stringify(reply(none)) && same !== JSON.stringify(reply(invalid)))
      fail("a spent code read as neither absent nor used");
    if (works && d.kind === "reject" && d.code === "AUTH_BOOTSTRAP_TOKEN_INVALID" && none.kind !== "reject") {
      fail("this device's spent code beside a working credential was refused");
    }
  }

  // Never revived by a code: a revoked (device, role) is approved only through a shared secret locally.
  const stored = f.stored;
  if (
    d.kind === "approve-then-admit" &&
    f.device &&
    stored?.publicKey === f.device.publicKey &&
    stored.tokens[f.role]?.revoked === true &&
    d.credential === "setup-code"
  ) {
    fail("a setup code revived a revoked role");
  }
}

describe("exhaustive credential invariants", () => {
  test("no combination of lockouts, slots, codes and tokens breaks a credential invariant", (t) => {
    let checked = 0;
    // Browser and client dimensions are the main sweep's (admission.test.ts); here they add nothing.
    for (const locality of [LOCAL, REMOTE])
      for (const client of [LANES.cli])
        for (const role of ["operator", "node"] as const)
          for (const requestedScopes of role === "operator" ? [[], [READ], [ADMIN]] : [[], [NODE_X]])
            for (const [sharedLabel, sharedAuth] of SHARED)
              for (const [devLabel, dev] of DEVICES)
                for (const [storedLabel, stored] of dev ? STORED : STORED.slice(0, 1))
                  for (const [tokenLabel, deviceToken] of TOKENS)
                    for (const [slotLabel, tokenSlot] of dev && deviceToken.kind === "none" && !sharedAuth.ok
                      ? SLOTS
                      : SLOTS.slice(0, 1))
                      // Only a proven device can have spent a code itself.
                      for (const [codeLabel, setupCode] of dev ? CODES : CODES.slice(0, 3))
                        for (const [runtimeLabel, runtimeToken] of dev ? RUNTIMES.slice(0, 1) : RUNTIMES) {
                          if (!dev && !["none", "mismatch"].includes(deviceToken.kind)) continue;
                          if (!consistent(deviceToken, stored, role) || !consistent(tokenSlot, stored, role))
                            continue;
                          const base: AdmissionFacts = {
                            ...facts({
                              locality,
                              client,
                              role,
                              requestedScopes,
                              sharedAuth,
                              device: dev,
                              stored,
                              deviceToken,
                            }),
                            ...(tokenSlot ? { tokenSlot } : {}),
                            ...(setupCode ? { setupCode } : {}),
                            ...(runtimeToken ? { runtimeToken } : {}),
                          };
                          // Every subset of the presented kinds locked out (absent kinds never are).
                          const kinds = presentedKinds(base);
                          for (let mask = 0; mask < 1 << kinds.length; mask++) {
                            const lockouts: Partial<Record<CredentialKind, number>> = {};
                            kinds.forEach((k, i) => {
                              if (mask & (1 << i)) lockouts[k] = 1000 * (i + 1);
                            });
                            const f = mask === 0 ? base : { ...base, lockouts };
                            checkCredentials(f, () =>
                              [
                                locality === LOCAL
                                  ? "direct-local"
                                  : locality === REMOTE
                                    ? "remote"
                                    : "own-origin",
                                `${client.id}/${client.mode}`,
                                role,
                                `[${requestedScopes.join(",")}]`,
                                `shared ${sharedLabel}`,
                                `device ${devLabel}`,
                                `stored ${storedLabel}`,
                                `device token ${tokenLabel}`,
                                `token slot ${slotLabel}`,
                                `setup code ${codeLabel}`,
                                `runtime ${runtimeLabel}`,
                                `locked ${Object.keys(lockouts).join("+") || "none"}`,
                              ].join(" | "),
                            );
                            checked++;
                          }
                        }
    t.diagnostic(`credential invariants checked on ${checked} combinations`);
    console.log(`admission credentials: ${checked} fact combinations checked`);
    assert.ok(checked > 10_000, String(checked));
  });
});
