/**
 * The sandbox as data (src/runtime/sandbox.ts) and the host facts it is built from
 * (src/runtime/sandbox-host.ts, src/runtime/sandbox-launcher.ts): argument order, covering of
 * secrets, conflicts, exit statuses, reachability, and the launcher's refusals.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { GatewayError } from "../../src/protocol/errors.js";
import {
  bwrapArgs,
  isInside,
  isVisible,
  jobExit,
  specConflict,
  type HiddenPath,
  type SandboxSpec,
} from "../../src/runtime/sandbox.js";
import { findExecutable, reachable, resolveHidden, systemLayout } from "../../src/runtime/sandbox-host.js";
import { createSandbox, type Sandbox } from "../../src/runtime/sandbox-launcher.js";
import { CHILD, sleep } from "./helpers.js";
import {
  processesWith,
  sandboxPhase,
  survivors,
  uniqueMarker,
  type SandboxPhase,
} from "./sandbox-processes.js";

const base: SandboxSpec = {
  readOnly: ["/usr", "/etc"],
  writable: [],
  links: [{ path: "/bin", target: "usr/bin" }],
  hidden: [],
  cwd: "/tmp",
};

/** The index of the first occurrence of `seq` (consecutive) in `args`, or -1. */
function indexOfSeq(args: readonly string[], ...seq: string[]): number {
  for (let i = 0; i + seq.length <= args.length; i++) {
    if (seq.every((s, j) => args[i + j] === s)) return i;
  }
  return -1;
}

describe("sandbox spec → bwrap arguments", () => {
  it("new namespaces except the network, its own session, /proc, /dev and a private /tmp; the command last", () => {
    const args = bwrapArgs(base, "node", ["child.js", "--flag"]);
    assert.deepEqual(args.slice(0, 3), ["--unshare-all", "--share-net", "--new-session"]);
    assert.ok(args.includes("--die-with-parent"), "a job outlives a gateway killed outright");
    assert.ok(indexOfSeq(args, "--proc", "/proc") > 0);
    assert.ok(indexOfSeq(args, "--dev", "/dev") > 0);
    assert.ok(indexOfSeq(args, "--tmpfs", "/tmp") > 0);
    assert.ok(indexOfSeq(args, "--ro-bind", "/usr", "/usr") > 0);
    assert.ok(indexOfSeq(args, "--symlink", "usr/bin", "/bin") > 0);
    assert.deepEqual(args.slice(-6), ["--chdir", "/tmp", "--", "node", "child.js", "--flag"]);
    assert.equal(args.includes("--unshare-net"), false, "the gateway stays reachable on loopback");
  });

  it("a parent is mounted before what is inside it; writable wins over read-only at the same path", () => {
    const args = bwrapArgs(
      { ...base, readOnly: ["/work/a/b", "/work", "/work/a"], writable: ["/work/a"], cwd: "/work/a" },
      "x",
      [],
    );
    const ro = (p: string) => indexOfSeq(args, "--ro-bind", p, p);
    const rw = indexOfSeq(args, "--bind", "/work/a", "/work/a");
    assert.ok(ro("/work") < ro("/work/a") && ro("/work/a") < rw && rw < ro("/work/a/b"), args.join(" "));
    const tmp = indexOfSeq(args, "--tmpfs", "/tmp");
    const inTmp = bwrapArgs({ ...base, writable: ["/tmp/job"], cwd: "/tmp/job" }, "x", []);
    assert.ok(
      tmp < indexOfSeq(inTmp, "--bind", "/tmp/job", "/tmp/job"),
      "a cwd under /tmp comes after its tmpfs",
    );
  });

  it("secrets inside a mount are covered after every mount: an unreadable empty dir, or an empty file", () => {
    const spec: SandboxSpec = {
      ...base,
      readOnly: ["/usr", "/srv"],
      writable: ["/srv/work"],
      hidden: [
        { path: "/srv/work/.gatehouse", kind: "dir" },
        { path: "/srv/work/.gatehouse/gatehouse.json", kind: "file" },
        { path: "/srv/tls/key.pem", kind: "file" },
        { path: "/root/.gatehouse", kind: "dir" },
      ],
      cwd: "/srv/work",
    };
    const args = bwrapArgs(spec, "x", []);
    const lastMount = indexOfSeq(args, "--bind", "/srv/work", "/srv/work");
    const dir = indexOfSeq(
      args,
      "--perms",
      "0000",
      "--tmpfs",
      "/srv/work/.gatehouse",
      "--remount-ro",
      "/srv/work/.gatehouse",
    );
    const file = indexOfSeq(args, "--ro-bind", "/dev/null", "/srv/tls/key.pem");
    assert.ok(dir > lastMount && file > lastMount, args.join(" "));
    assert.equal(args.includes("/srv/work/.gatehouse/gatehouse.json"), false, "covered with its directory");
    assert.equal(args.includes("/root/.gatehouse"), false, "outside every mount it does not exist anyway");
  });

  it("a mount inside (or at) a secret is a conflict, never built", () => {
    const hidden: HiddenPath[] = [{ path: "/srv/state", kind: "dir" }];
    for (const writable of [["/srv/state"], ["/srv/state/sub"]]) {
      const spec = { ...base, writable, hidden, cwd: writable[0]! };
      assert.match(specConflict(spec) ?? "", /inside \/srv\/state/);
      assert.throws(() => bwrapArgs(spec, "x", []), /gateway's secrets/);
    }
    assert.equal(specConflict({ ...base, writable: ["/srv/stateful"], hidden, cwd: "/srv/stateful" }), null);
  });

  it("a link is not recreated where a bound path already provides it", () => {
    const args = bwrapArgs({ ...base, readOnly: ["/"] }, "x", []);
    assert.equal(args.includes("--symlink"), false);
    assert.ok(indexOfSeq(args, "--ro-bind", "/", "/") < indexOfSeq(args, "--proc", "/proc"), "/ first");
  });

  it("property: every secret a mount exposes is covered, after every mount that contains it", () => {
    const seg = fc.constantFrom("a", "b", "c");
    const path = fc.array(seg, { minLength: 1, maxLength: 4 }).map((p) => `/${p.join("/")}`);
    fc.assert(
      fc.property(
        fc.uniqueArray(path, { maxLength: 4 }),
        fc.uniqueArray(path, { maxLength: 2 }),
        fc.uniqueArray(fc.record({ path, kind: fc.constantFrom<"dir" | "file">("dir", "file") }), {
          maxLength: 3,
          selector: (h) => h.path,
        }),
        (readOnly, writable, hidden) => {
          const spec: SandboxSpec = { readOnly, writable, links: [], hidden, cwd: "/tmp" };
          if (specConflict(spec) !== null) {
            assert.throws(() => bwrapArgs(spec, "x", []));
            return;
          }
          const args = bwrapArgs(spec, "x", []);
          for (const h of hidden) {
            const exposedBy = [...readOnly, ...writable].filter((m) => isInside(h.path, m));
            if (exposedBy.length === 0) continue;
            const cover = Math.max(
              ...hidden
                .filter((o) => isInside(h.path, o.path) && (o.kind === "dir" || o.path === h.path))
                .map((o) =>
                  o.kind === "dir"
                    ? indexOfSeq(args, "--tmpfs", o.path)
                    : indexOfSeq(args, "/dev/null", o.path),
                ),
            );
            assert.ok(cover > 0, `${h.path} is covered: ${args.join(" ")}`);
            for (const m of exposedBy) {
              const mount = Math.max(indexOfSeq(args, "--ro-bind", m, m), indexOfSeq(args, "--bind", m, m));
              assert.ok(mount < cover, `${h.path} covered after ${m}: ${args.join(" ")}`);
            }
            assert.equal(isVisible(h.path, spec), false);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("bubblewrap's 128+n exit status is the signal n; everything else passes through", () => {
    assert.deepEqual(jobExit(143, null), { code: null, signal: "SIGTERM" });
    assert.deepEqual(jobExit(137, null), { code: null, signal: "SIGKILL" });
    assert.deepEqual(jobExit(0, null), { code: 0, signal: null });
    assert.deepEqual(jobExit(1, null), { code: 1, signal: null });
    assert.deepEqual(jobExit(128, null), { code: 128, signal: null });
    assert.deepEqual(jobExit(200, null), { code: 200, signal: null });
    assert.deepEqual(jobExit(null, "SIGKILL"), { code: null, signal: "SIGKILL" });
  });
});

describe("sandbox host facts", () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-sandbox-host-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("reachable: every directory above must let the job user pass (owner, group or other x bit)", () => {
    const closed = join(dir, "closed");
    const open = join(dir, "open");
    mkdirSync(join(closed, "inner"), { recursive: true });
    mkdirSync(join(open, "inner"), { recursive: true });
    chmodSync(dir, 0o755);
    chmodSync(closed, 0o700);
    chmodSync(open, 0o711);
    const stranger = { uid: 12345, gids: [12345] };
    assert.equal(reachable(join(closed, "inner"), stranger), false);
    assert.equal(reachable(join(open, "inner"), stranger), true);
    assert.equal(reachable(closed, stranger), true, "the directory itself is reached from its parent");
    assert.equal(reachable(closed, stranger, true), false, "but not entered");
    const owner = { uid: process.getuid!(), gids: [] };
    assert.equal(reachable(join(closed, "inner"), owner), true);
  });

  it("secrets resolve to real paths at both ends of a symlink, with their kind; absent ones are dropped", () => {
    const target = join(dir, "dotfiles.json");
    writeFileSync(target, "{}");
    const link = join(dir, "gatehouse.json");
    symlinkSync(target, link);
    const hidden = resolveHidden([link, dir, join(dir, "absent")]);
    assert.deepEqual(
      hidden.map((h) => [h.path, h.kind]),
      [
        [link, "file"],
        [target, "file"],
        [dir, "dir"],
      ],
    );
  });

  it("findExecutable searches PATH like execvp, and checks a path with a slash as it is", () => {
    assert.equal(findExecutable("sh", "/nonexistent:/usr/bin:/bin"), "/usr/bin/sh");
    assert.equal(findExecutable("sh", "/nonexistent"), null);
    assert.equal(findExecutable(process.execPath, ""), process.execPath);
    const plain = join(dir, "plain.txt");
    writeFileSync(plain, "", { mode: 0o644 });
    assert.equal(findExecutable(plain, "/usr/bin"), null, "not executable");
  });

  it("system layout: merged-/usr links are recreated, real directories bound", () => {
    const layout = systemLayout(["/usr", "/bin", "/nonexistent"]);
    assert.ok(layout.dirs.includes("/usr"));
    assert.equal(layout.dirs.includes("/nonexistent"), false);
    const bin = layout.links.find((l) => l.path === "/bin");
    if (bin) assert.equal(bin.target, "usr/bin");
    else assert.ok(layout.dirs.includes("/bin"));
  });
});

describe("the launcher refuses before anything starts", () => {
  it("no bwrap on the search path: SANDBOX_UNAVAILABLE with the install hint and the opt-out", async () => {
    const sandbox = createSandbox({ searchPath: "/nonexistent" });
    const err = await sandbox.ready().then(
      () => assert.fail("ready without bwrap"),
      (e: unknown) => e as GatewayError,
    );
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, "SANDBOX_UNAVAILABLE");
    assert.equal(err.wireCode, "UNAVAILABLE");
    assert.match(err.message, /apt-get install bubblewrap/);
    assert.match(err.message, /gateway\.sandbox\.mode "none"/);
    assert.equal(sandbox.status().state, "unavailable");
    assert.throws(
      () => sandbox.launch({ command: "sh", args: [], cwd: null, path: "/usr/bin" }),
      GatewayError,
    );
  });

  it("a configured read-only path that does not exist, or that holds a secret, is refused by name", async () => {
    const missing = createSandbox({ readOnlyPaths: ["/nonexistent/tools"] });
    await assert.rejects(
      missing.ready(),
      /gateway\.sandbox\.readOnlyPaths: \/nonexistent\/tools does not exist/,
    );
    const exposing = createSandbox({ readOnlyPaths: [tmpdir()], secretPaths: [tmpdir()] });
    await assert.rejects(exposing.ready(), /would expose secrets/);
  });

  it("mode none starts the command as it is, in its cwd, signalled by process group", async () => {
    const none = createSandbox({ mode: "none" });
    await none.ready();
    const launch = none.launch({ command: "node", args: ["x.js"], cwd: "/srv", path: undefined });
    assert.deepEqual([launch.file, launch.args, launch.options], ["node", ["x.js"], { cwd: "/srv" }]);
    assert.deepEqual(none.status(), { mode: "none", state: "off", bwrap: null, user: null, problem: null });
  });

  it("bwrap mode: a command the sandbox cannot see fails like a missing one (ENOENT), saying why", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-sandbox-cmd-"));
    try {
      chmodSync(dir, 0o755);
      const tool = join(dir, "tool");
      writeFileSync(tool, "#!/bin/sh\n");
      chmodSync(tool, 0o755);
      const sandbox = createSandbox({});
      await sandbox.ready();
      assert.throws(
        () => sandbox.launch({ command: tool, args: [], cwd: null, path: "/usr/bin" }),
        (e: NodeJS.ErrnoException) => e.code === "ENOENT" && /not inside the sandbox/.test(e.message),
      );
      assert.throws(
        () => sandbox.launch({ command: "no-such-program", args: [], cwd: null, path: "/usr/bin" }),
        /spawn no-such-program ENOENT/,
      );
      const inCwd = sandbox.launch({ command: tool, args: [], cwd: dir, path: "/usr/bin" });
      assert.ok(inCwd.args.includes(tool), "visible once its directory is the job's cwd");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("killing a sandbox (real bubblewrap)", () => {
  const secrets = mkdtempSync(join(tmpdir(), "gatehouse-sandbox-kill-"));
  after(() => rmSync(secrets, { recursive: true, force: true }));

  /** The moments of a sandbox's start, in order; `running`: the job has printed its first line. */
  const MOMENTS: readonly (SandboxPhase | "running")[] = [
    "monitor",
    "init",
    "init-own-session",
    "job",
    "running",
  ];

  /**
   * Starts a job that ignores SIGTERM, SIGKILLs it the way the session manager does as soon as its
   * sandbox is at `moment` (or past it: then `caught` is false), and returns what is left of it.
   */
  async function killAt(sandbox: Sandbox, moment: SandboxPhase | "running") {
    const marker = uniqueMarker("sandbox-kill");
    const launch = sandbox.launch({
      command: process.execPath,
      args: [CHILD, "stubborn", marker],
      cwd: null,
      path: process.env.PATH,
    });
    const child = spawn(launch.file, launch.args, {
      ...launch.options,
      stdio: ["ignore", "pipe", "ignore"],
      detached: true,
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    const exited = once(child, "exit");
    await once(child, "spawn");
    const pid = child.pid!;
    let seen: SandboxPhase | "running";
    if (moment === "running") {
      const deadline = Date.now() + 15_000;
      while (!output.includes("RESULT") && Date.now() < deadline) await sleep(10);
      seen = output.includes("RESULT") ? "running" : sandboxPhase(pid);
    } else {
      // Watched without yielding, so the kill follows the moment within microseconds.
      const target = MOMENTS.indexOf(moment);
      const deadline = Date.now() + 3000;
      do seen = sandboxPhase(pid);
      while (seen !== "gone" && MOMENTS.indexOf(seen) < target && Date.now() < deadline);
    }
    launch.signal(pid, "SIGKILL");
    const exit = await Promise.race([exited.then(() => "exited"), sleep(5000).then(() => "no exit")]);
    return { caught: seen === moment, seen, exit, left: await survivors(marker) };
  }

  it("SIGKILL ends every process of a sandbox at each moment of its start, the init leading its own session before the job exists included", async (t) => {
    const sandbox = createSandbox({ secretPaths: [secrets] });
    await sandbox.ready();
    // How often each moment is hit. Killing the monitor alone left the sandbox running about every
    // second time it was hit between the init's setsid and its --die-with-parent (init-own-session,
    // and job while the init has not yet taken it): eight hits there would all pass by chance 1 in 256.
    const wanted: Record<SandboxPhase | "running", number> = {
      monitor: 1,
      init: 1,
      "init-own-session": 8,
      job: 4,
      running: 1,
      gone: 0,
    };
    const hits = new Map<string, number>();
    for (const moment of MOMENTS) {
      // The early moments last milliseconds: a start that ran past one is killed too, and tried again.
      const tries: string[] = [];
      for (let attempt = 0; attempt < 40 && (hits.get(moment) ?? 0) < wanted[moment]; attempt++) {
        const r = await killAt(sandbox, moment);
        tries.push(r.seen);
        assert.equal(r.exit, "exited", `bubblewrap's monitor exits when killed at ${r.seen}`);
        assert.deepEqual(r.left, [], `nothing of a sandbox killed at ${r.seen} is left`);
        if (r.caught) hits.set(moment, (hits.get(moment) ?? 0) + 1);
      }
      t.diagnostic(`${moment}: killed at ${tries.join(", ")}`);
    }
    // The moment that used to leak must have been tested, and the end every job reaches.
    const seen = JSON.stringify(Object.fromEntries(hits));
    assert.ok((hits.get("init-own-session") ?? 0) >= 4, `moments hit: ${seen}`);
    assert.ok(hits.has("running"), `moments hit: ${seen}`);
  });

  it("a job's processes are found by its marker while it runs (the check above can see a survivor)", async () => {
    const sandbox = createSandbox({ secretPaths: [secrets] });
    await sandbox.ready();
    const marker = uniqueMarker("sandbox-seen");
    const launch = sandbox.launch({
      command: process.execPath,
      args: [CHILD, "stubborn", marker],
      cwd: null,
      path: process.env.PATH,
    });
    const child = spawn(launch.file, launch.args, { ...launch.options, stdio: "ignore", detached: true });
    const exited = once(child, "exit");
    try {
      const deadline = Date.now() + 15_000;
      while (processesWith(marker).length < 3 && Date.now() < deadline) await sleep(25);
      // bubblewrap's monitor and init, and the job.
      assert.deepEqual(
        processesWith(marker)
          .map((p) => p.program)
          .sort(),
        [launch.file, launch.file, process.execPath].sort(),
      );
    } finally {
      launch.signal(child.pid!, "SIGKILL");
      await exited;
      assert.deepEqual(await survivors(marker), []);
    }
  });
});
