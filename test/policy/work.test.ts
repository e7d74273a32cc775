/**
 * The decisions about calls, node invocations and the scopes of work (src/policy/work.ts), swept
 * over a small scope space: every subset of a few scopes that meet the lattice's corners.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { CreatorFacts } from "../../src/policy/authority.js";
import { RULE_SENTENCES } from "../../src/policy/rules.js";
import { missingScopes, scopeSatisfied } from "../../src/policy/scopes.js";
import {
  decideCronEdit,
  decideCronEnable,
  decideCronRun,
  decideMethodCall,
  decideNewWork,
  decideNodeInvoke,
} from "../../src/policy/work.js";

const ADMIN = "operator.admin";
const WRITE = "operator.write";
const READ = "operator.read";
const PAIRING = "operator.pairing";
const OTHER = "custom.scope";
const SCOPES = [ADMIN, WRITE, READ, PAIRING, OTHER];

/** Every subset of SCOPES (32 sets). */
const SETS: string[][] = Array.from({ length: 1 << SCOPES.length }, (_, mask) =>
  SCOPES.filter((_, i) => mask & (1 << i)),
);

const covers = (held: readonly string[], want: readonly string[]) => missingScopes(held, want).length === 0;

function knownTrace(trace: readonly string[]): void {
  for (const id of trace) assert.ok(id in RULE_SENTENCES, `unknown rule id ${id}`);
}

describe("method calls", () => {
  test("a call is allowed exactly when the role matches and the scopes cover the method's scope", () => {
    for (const role of ["operator", "node"] as const) {
      for (const needRole of ["operator", "node"] as const) {
        for (const scopes of SETS) {
          for (const scope of [null, ...SCOPES]) {
            const d = decideMethodCall({ role, scopes }, { role: needRole, scope });
            knownTrace(d.trace);
            const expected = role === needRole && (scope === null || scopeSatisfied(scopes, scope));
            assert.equal(d.allow, expected, `${role} ${scopes.join(",")} → ${needRole} ${scope}`);
            if (!d.allow && role !== needRole) assert.equal(d.refusal, "role");
            if (!d.allow && role === needRole)
              assert.deepEqual(d, {
                allow: false,
                refusal: "scope",
                missingScope: scope,
                trace: ["call-missing-scope"],
              });
          }
        }
      }
    }
  });

  test("the role is checked before the scope: a node never learns which scope an operator method needs", () => {
    const d = decideMethodCall({ role: "node", scopes: [] }, { role: "operator", scope: ADMIN });
    assert.deepEqual(d, {
      allow: false,
      refusal: "role",
      requiredRole: "operator",
      trace: ["call-role-not-allowed"],
    });
  });
});

describe("node invocations", () => {
  test("exec-capable commands need admin; write never covers them", () => {
    for (const command of [
      "system.run",
      "system.run.prepare",
      "system.execApprovals.set",
      "browser.proxy",
      "fs.read",
    ]) {
      assert.equal(decideNodeInvoke([WRITE], command).allow, false, command);
      const admitted = decideNodeInvoke([ADMIN], command);
      assert.equal(admitted.allow, true, command);
      assert.deepEqual(admitted.trace, ["invoke-exec-needs-admin", "invoke-covered"]);
    }
  });

  test("other commands need write, which admin covers and read does not", () => {
    for (const command of ["camera.snap", "system.notify", "location.get"]) {
      assert.equal(decideNodeInvoke([READ], command).allow, false, command);
      assert.equal(decideNodeInvoke([WRITE], command).allow, true, command);
      assert.equal(decideNodeInvoke([ADMIN], command).allow, true, command);
      assert.equal(decideNodeInvoke([WRITE], command).requiredScope, WRITE);
    }
  });
});

describe("new work (sessions.spawn, cron.add)", () => {
  test("sweep: allowed exactly when the caller covers what the work carries; never wider than the caller", () => {
    for (const caller of SETS) {
      for (const requested of [undefined, ...SETS]) {
        const d = decideNewWork(caller, requested);
        knownTrace(d.trace);
        const carried = requested ?? caller;
        assert.equal(d.allow, covers(caller, carried), `${caller} ⊇ ${carried}?`);
        if (d.allow) {
          assert.deepEqual(d.scopes, [...carried]);
          assert.ok(covers(caller, d.scopes));
        } else {
          assert.deepEqual(d.missingScopes, missingScopes(caller, carried));
          assert.equal(d.rule, "work-exceeds-caller");
          assert.deepEqual(d.ceiling, caller);
        }
        assert.equal(d.trace.includes("work-scopes-default-to-caller"), requested === undefined);
      }
    }
  });

  test("a sub-agent holding write cannot give its child admin (the lattice, not set equality)", () => {
    const d = decideNewWork([WRITE], [ADMIN]);
    assert.equal(d.allow, false);
    assert.equal(decideNewWork([ADMIN], [READ, PAIRING]).allow, true);
  });
});

describe("cron edits and runs", () => {
  test("sweep: an edit stays within the job's ceiling and within the caller; the ceiling is checked first", () => {
    for (const ceiling of SETS) {
      for (const callerScopes of SETS) {
        for (const scopes of SETS) {
          const d = decideCronEdit({ ceiling, callerScopes, scopes });
          knownTrace(d.trace);
          assert.equal(d.allow, covers(ceiling, scopes) && covers(callerScopes, scopes));
          if (!d.allow) {
            assert.equal(
              d.rule,
              covers(ceiling, scopes) ? "work-exceeds-caller" : "work-exceeds-job-ceiling",
            );
          }
        }
      }
    }
  });

  test("running a job now needs its scopes", () => {
    for (const caller of SETS) {
      for (const job of SETS) assert.equal(decideCronRun(caller, job).allow, covers(caller, job));
    }
  });
});

describe("re-enabling a disabled cron job", () => {
  const device = (
    scopes: string[],
    extra: Partial<Extract<CreatorFacts, { kind: "device" }>> = {},
  ): CreatorFacts => ({
    kind: "device",
    deviceId: "dev-a",
    roles: ["operator"],
    operatorRevoked: false,
    scopes,
    ...extra,
  });
  const CREATORS: CreatorFacts[] = [
    { kind: "root" },
    { kind: "removed", deviceId: "dev-a" },
    device([ADMIN], { operatorRevoked: true }),
    device([ADMIN], { roles: ["node"] }),
    ...SETS.map((s) => device(s)),
  ];
  const live = (c: CreatorFacts, scopes: readonly string[]) =>
    c.kind === "root" ||
    (c.kind === "device" && c.roles.includes("operator") && !c.operatorRevoked && covers(c.scopes, scopes));

  test("sweep: enabled only by a caller who holds its scopes, and only onto an authority that still holds them", () => {
    const jobs = [[READ], [ADMIN], [WRITE, PAIRING], [OTHER]];
    for (const jobScopes of jobs) {
      for (const creator of CREATORS) {
        for (const callerScopes of SETS) {
          for (const callerAuthority of CREATORS) {
            const d = decideCronEnable({ jobScopes, creator, callerScopes, callerAuthority });
            knownTrace(d.trace);
            const where = `${jobScopes} creator=${JSON.stringify(creator)} caller=${callerScopes} on ${JSON.stringify(callerAuthority)}`;
            if (!covers(callerScopes, jobScopes)) {
              assert.equal(d.allow, false, where);
              continue;
            }
            if (live(creator, jobScopes)) {
              assert.ok(d.allow && d.restsOn === "creator", where);
            } else if (live(callerAuthority, jobScopes)) {
              assert.ok(d.allow && d.restsOn === "caller", where);
            } else {
              assert.ok(!d.allow && d.rule === "work-enable-no-authority", where);
            }
          }
        }
      }
    }
  });

  test("attack: a device whose operator role was revoked gets its disabled job back by nobody but a covering authority", () => {
    const revoked = device([ADMIN], { operatorRevoked: true });
    // The revoked device's own surviving session (resting on that same device) cannot revive it.
    const self = decideCronEnable({
      jobScopes: [ADMIN],
      creator: revoked,
      callerScopes: [ADMIN],
      callerAuthority: revoked,
    });
    assert.equal(self.allow, false);
    assert.deepEqual(self.trace.at(-1), "work-enable-no-authority");
    // A reader cannot either, whatever it rests on.
    assert.equal(
      decideCronEnable({
        jobScopes: [ADMIN],
        creator: revoked,
        callerScopes: [READ],
        callerAuthority: { kind: "root" },
      }).allow,
      false,
    );
    // The owner can: the job then rests on the owner.
    const owner = decideCronEnable({
      jobScopes: [ADMIN],
      creator: revoked,
      callerScopes: [ADMIN],
      callerAuthority: device([ADMIN], { deviceId: "owner" }),
    });
    assert.ok(owner.allow && owner.restsOn === "caller");
  });
});
