import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { missingScopes, scopeSatisfied } from "../../src/policy/scopes.js";
import { ALL_OPERATOR_SCOPES, CLI_DEFAULT_OPERATOR_SCOPES } from "../../src/protocol/scopes.js";

const ADMIN = "operator.admin";
const READ = "operator.read";
const WRITE = "operator.write";
const APPROVALS = "operator.approvals";
const PAIRING = "operator.pairing";
const TALK_SECRETS = "operator.talk.secrets";

describe("operator.admin", () => {
  test("covers every known operator scope", () => {
    for (const s of ALL_OPERATOR_SCOPES) assert.equal(scopeSatisfied([ADMIN], s), true, s);
  });

  test("covers unknown future operator.* scopes", () => {
    for (const s of ["operator.foo", "operator.questions", "operator.sessions.archive", "operator.talk"]) {
      assert.equal(scopeSatisfied([ADMIN], s), true, s);
    }
  });

  test("property: covers any operator.<suffix>", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (suffix) => scopeSatisfied([ADMIN], `operator.${suffix}`)),
    );
  });

  test("never covers node.* or other roles' scopes", () => {
    for (const s of ["node.invoke", "node.admin", "member.resource", "foo"]) {
      assert.equal(scopeSatisfied([ADMIN], s), false, s);
    }
  });

  test("does not cover look-alikes without the 'operator.' prefix (case-sensitive)", () => {
    for (const s of ["operator", "operatorx.read", "Operator.read", "OPERATOR.READ", ".operator.read"]) {
      assert.equal(scopeSatisfied([ADMIN], s), false, s);
    }
  });
});

describe("operator.write", () => {
  test("covers read", () => {
    assert.equal(scopeSatisfied([WRITE], READ), true);
    assert.equal(scopeSatisfied([WRITE], WRITE), true);
  });

  test("does not cover admin, approvals, pairing or talk.secrets", () => {
    for (const s of [ADMIN, APPROVALS, PAIRING, TALK_SECRETS, "operator.foo"]) {
      assert.equal(scopeSatisfied([WRITE], s), false, s);
    }
  });
});

describe("operator.read", () => {
  test("covers only itself", () => {
    assert.equal(scopeSatisfied([READ], READ), true);
    for (const s of [WRITE, ADMIN, APPROVALS, PAIRING, TALK_SECRETS, "operator.foo", "node.x"]) {
      assert.equal(scopeSatisfied([READ], s), false, s);
    }
  });
});

describe("independent and unknown scopes", () => {
  test("approvals, pairing and talk.secrets need an exact match (or admin)", () => {
    for (const s of [APPROVALS, PAIRING, TALK_SECRETS]) {
      assert.equal(scopeSatisfied([s], s), true);
      const others = [APPROVALS, PAIRING, TALK_SECRETS, READ, WRITE].filter((o) => o !== s);
      assert.equal(scopeSatisfied(others, s), false, s);
    }
  });

  test("unknown scopes need an exact match", () => {
    assert.equal(scopeSatisfied(["operator.foo"], "operator.foo"), true);
    assert.equal(scopeSatisfied(["operator.foo"], "operator.bar"), false);
    assert.equal(scopeSatisfied(["node.invoke"], "node.invoke"), true);
    assert.equal(scopeSatisfied(["node.invoke"], "node.invoke.result"), false);
    assert.equal(scopeSatisfied(["custom"], "custom"), true);
  });

  test("an empty grant covers nothing", () => {
    for (const s of [...ALL_OPERATOR_SCOPES, "node.x"]) assert.equal(scopeSatisfied([], s), false, s);
  });

  test("the CLI default bundle (it includes admin) covers every operator scope the owner holds", () => {
    for (const s of ALL_OPERATOR_SCOPES)
      assert.equal(scopeSatisfied(CLI_DEFAULT_OPERATOR_SCOPES, s), true, s);
  });
});

describe("missingScopes", () => {
  test("returns the uncovered scopes in the order required", () => {
    assert.deepEqual(missingScopes([READ], [ADMIN, READ, PAIRING, "node.x", WRITE]), [
      ADMIN,
      PAIRING,
      "node.x",
      WRITE,
    ]);
    assert.deepEqual(missingScopes([WRITE], [PAIRING, READ, APPROVALS]), [PAIRING, APPROVALS]);
  });

  test("nothing missing when covered, or nothing required", () => {
    assert.deepEqual(missingScopes([ADMIN], [READ, WRITE, PAIRING, "operator.foo"]), []);
    assert.deepEqual(missingScopes([], []), []);
    assert.deepEqual(missingScopes([READ], []), []);
  });

  test("everything missing from an empty grant, duplicates kept", () => {
    assert.deepEqual(missingScopes([], [WRITE, READ, WRITE]), [WRITE, READ, WRITE]);
  });

  test("admin still misses non-operator scopes", () => {
    assert.deepEqual(missingScopes([ADMIN], ["node.invoke", READ]), ["node.invoke"]);
  });

  test("does not mutate its inputs", () => {
    const granted = [READ];
    const required = [ADMIN, READ];
    missingScopes(granted, required);
    assert.deepEqual(granted, [READ]);
    assert.deepEqual(required, [ADMIN, READ]);
  });
});
