/**
 * Disk full: a real gateway process whose state dir lives on a small tmpfs (mounted for the test;
 * needs root, otherwise the test is skipped with the reason). Once the gateway has some state, the
 * filesystem is filled to the last byte; then a new device connects, the owner approves, rejects,
 * revokes and rotates over RPC, and a paired device reconnects (admitted: its last-seen stamp is
 * bookkeeping, lost with the full disk, never a refusal). Every failed write must come back
 * as a documented refusal (`INTERNAL_ERROR`/UNAVAILABLE, `details.reason: "store-unavailable"`,
 * retryable; a connect closes 1013), never a crash and never an admission; the gateway keeps
 * answering. After the space is freed, every operation is either fully in the store (it was
 * acknowledged) or fully absent (it was refused), audit rows included, and the store passes
 * `integrity_check`.
 *
 * Why a tmpfs: SQLite's WAL only needs new space when it grows past its current size, so a store
 * on a nearly full disk keeps working until the next write that needs a page; filling a dedicated
 * filesystem makes the very next write fail the way a full disk does (SQLITE_FULL), without
 * touching the machine's real disks.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadIdentity } from "../../src/identity/file-store.js";
import { generateIdentity, type DeviceIdentity } from "../../src/identity/keys.js";
import { ALL_OPERATOR_SCOPES } from "../../src/protocol/scopes.js";
import { openStore, type Store } from "../../src/store/db.js";
import { readGatewayLock } from "../../src/store/lock.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { spawnGateway, type GatewayProcess } from "../helpers/gateway-process.js";
import { connectParams, type ConnectOptions } from "../helpers/raw-client.js";
import {
  codeOf,
  errorShapeProblems,
  firstFrameOutcome,
  labelOf,
  openBare,
  request,
  type BarePeer,
  type WireFrame,
} from "./support.js";

const TOKEN = "disk-full-token-0123456789abcdefghijkl";
const sandbox = createCliSandbox();
after(() => sandbox.cleanup());

/** Mounts a tmpfs of `size` on a fresh temp dir; returns the dir. */
function mountTmpfs(size: string): string {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-full-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir], { stdio: "pipe" });
  } catch (err) {
    rmdirSync(dir);
    throw err;
  }
  return dir;
}

function unmount(dir: string): void {
  try {
    execFileSync("umount", [dir], { stdio: "pipe" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Why the test cannot run here (it needs to mount a tmpfs), or false when it can. */
function whyNotMountable(): string | false {
  if (process.platform !== "linux") return `needs Linux to mount a tmpfs (this is ${process.platform})`;
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) return `needs root to mount a tmpfs (running as uid ${uid})`;
  try {
    unmount(mountTmpfs("1m"));
    return false;
  } catch (err) {
    const detail = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    return `cannot mount a tmpfs here: ${detail}`;
  }
}

const SKIP = whyNotMountable();

/** Writes zeros until the filesystem has no byte left; returns the filler's path and size. */
function fillUp(dir: string): { path: string; bytes: number } {
  const path = join(dir, "filler");
  const fd = openSync(path, "w");
  let bytes = 0;
  try {
    for (let chunk = 1 << 20; chunk >= 1;) {
      try {
        // A write that does not fit may be cut short before the next one fails with ENOSPC.
        const n = writeSync(fd, Buffer.alloc(chunk));
        bytes += n;
        if (n < chunk) chunk >>= 1;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
        chunk >>= 1;
      }
    }
  } finally {
    closeSync(fd);
  }
  return { path, bytes };
}

function signedConnect(nonce: string, d: DeviceIdentity, o: ConnectOptions): string {
  return JSON.stringify({
    type: "req",
    id: "c",
    method: "connect",
    params: connectParams(nonce, { identity: d, ...o }),
  });
}

async function connect(url: string, d: DeviceIdentity, o: ConnectOptions) {
  return firstFrameOutcome(url, (peer) => peer.ws.send(signedConnect(peer.challenge.nonce, d, o)));
}

async function ownerSession(url: string, owner: DeviceIdentity): Promise<BarePeer> {
  const peer = await openBare(url);
  peer.ws.send(signedConnect(peer.challenge.nonce, owner, { scopes: [...ALL_OPERATOR_SCOPES] }));
  const hello = await peer.waitFor((f) => f.type === "res" && f.id === "c");
  assert.equal(hello?.ok, true, `owner admitted: ${JSON.stringify(hello)?.slice(0, 200)}`);
  return peer;
}

/** A device that asked to pair (pending): its requestId. */
async function pend(url: string, d: DeviceIdentity): Promise<string> {
  const out = await connect(url, d, { scopes: ["operator.read"], auth: { token: TOKEN } });
  assert.equal(codeOf(out.res), "PAIRING_REQUIRED");
  return String(out.res!.error!.details!.requestId);
}

/** A device paired through approval, with the device token it was given. */
async function paired(url: string, owner: BarePeer, d: DeviceIdentity): Promise<string> {
  const requestId = await pend(url, d);
  assert.equal(
    (await request(owner, `approve-${requestId}`, "device.pair.approve", { requestId }))?.ok,
    true,
  );
  const out = await connect(url, d, { scopes: ["operator.read"], auth: { token: TOKEN } });
  const token = (out.res?.payload as { auth?: { deviceToken?: string } } | undefined)?.auth?.deviceToken;
  assert.ok(out.res?.ok && token, "paired device admitted with a token");
  return token;
}

/** The refusal of a write the full disk stopped: documented, retryable, saying the store is the reason. */
function assertStoreRefusal(res: WireFrame | null, what: string): void {
  assert.ok(res, `${what}: answered`);
  assert.equal(res.ok, false, `${what}: refused`);
  assert.deepEqual(errorShapeProblems(res), [], what);
  assert.equal(res.error?.code, "UNAVAILABLE", what);
  assert.equal(res.error?.details?.reason, "store-unavailable", `${what}: ${JSON.stringify(res.error)}`);
  assert.equal(res.error?.retryable, true, what);
}

interface Attempt {
  what: string;
  acked: boolean;
  /** Whether the change is in the store, from the store's own rows. */
  present(store: Store): boolean;
  /** The audit row that must come with the change (same transaction). */
  audited(store: Store): boolean;
}

describe("hardening: the disk fills up under a running gateway", () => {
  it(
    "failed writes are refused as documented, the gateway keeps running, nothing is half-applied",
    { skip: SKIP },
    async (t) => {
      const mnt = mountTmpfs("8m");
      let gw: GatewayProcess | null = null;
      try {
        const dir = join(mnt, "state");
        mkdirSync(dir, { mode: 0o700 });
        writeFileSync(
          join(dir, "gatehouse.json"),
          JSON.stringify({
            gateway: { auth: { mode: "token", token: TOKEN }, pairing: { autoApproveLocal: false } },
          }),
        );
        gw = await spawnGateway(["--port", "0", "--state-dir", dir], sandbox.env);
        const url = gw.url;
        const owner = await ownerSession(url, loadIdentity(join(dir, "identity", "device.json")));
        const [P, J, R, S, K, N1, N2] = Array.from({ length: 7 }, () => generateIdentity());
        const rP = await pend(url, P!);
        const rJ = await pend(url, J!);
        const tR = await paired(url, owner, R!);
        const tS = await paired(url, owner, S!);
        const tK = await paired(url, owner, K!);

        // K was last seen long ago: admitting it again wants a last-seen stamp, which cannot be written.
        const side = openStore(join(dir, "state", "gatehouse.sqlite"));
        try {
          side.devices.touch(K!.deviceId, "127.0.0.1", 0);
        } finally {
          side.close();
        }

        const filler = fillUp(mnt);
        t.diagnostic(`filled the tmpfs with ${filler.bytes} bytes`);

        // A new device: its pending request cannot be written.
        const n1 = await connect(url, N1!, { scopes: ["operator.read"], auth: { token: TOKEN } });
        assertStoreRefusal(n1.res, "a new device's connect");
        assert.equal(n1.close?.code, 1013, "a refused connect closes 1013 (try again later)");
        const rpc = async (method: string, params: unknown) =>
          request(owner, `${method}-full`, method, params);
        const results: Array<[string, WireFrame | null]> = [
          ["approve", await rpc("device.pair.approve", { requestId: rP })],
          ["reject", await rpc("device.pair.reject", { requestId: rJ })],
          ["revoke", await rpc("device.token.revoke", { deviceId: R!.deviceId, role: "operator" })],
          ["rotate", await rpc("device.token.rotate", { deviceId: S!.deviceId, role: "operator" })],
        ];
        for (const [what, res] of results) {
          if (res?.ok !== true) assertStoreRefusal(res, what);
        }
        // A paired device presenting its token is admitted: its last-seen stamp is bookkeeping, lost
        // with the full disk, never a reason to refuse it.
        const k = await connect(url, K!, { scopes: ["operator.read"], auth: { deviceToken: tK } });
        t.diagnostic(
          `while full: new device → ${labelOf(n1.res)}/${n1.close?.code}; ` +
            results.map(([w, r]) => `${w} → ${labelOf(r)}`).join(", ") +
            `; paired device reconnect → ${labelOf(k.res)}`,
        );
        assert.equal(
          k.res?.ok,
          true,
          `the paired device is admitted: ${JSON.stringify(k.res)?.slice(0, 300)}`,
        );
        assert.ok(
          results.some(([, r]) => r?.ok !== true),
          "at least one RPC write met the full disk (else the test did not test it)",
        );
        assert.equal((await request(owner, "health-full", "health"))?.ok, true, "reads still answer");
        assert.equal(gw.child.exitCode, null, "the gateway is still running");

        const attempts: Attempt[] = [
          {
            what: "approve",
            acked: results[0]![1]?.ok === true,
            present: (s) => s.devices.get(P!.deviceId) !== null && s.pending.get(rP, Date.now()) === null,
            audited: (s) => s.audit.list({ deviceId: P!.deviceId }).some((r) => r.kind === "approve"),
          },
          {
            what: "reject",
            acked: results[1]![1]?.ok === true,
            present: (s) => s.pending.get(rJ, Date.now()) === null,
            audited: (s) => s.audit.list({ deviceId: J!.deviceId }).some((r) => r.kind === "reject"),
          },
          {
            what: "revoke",
            acked: results[2]![1]?.ok === true,
            present: (s) => s.tokens.verify(R!.deviceId, "operator", tR).kind === "revoked",
            audited: (s) => s.audit.list({ deviceId: R!.deviceId }).some((r) => r.kind === "revoke"),
          },
          {
            what: "rotate",
            acked: results[3]![1]?.ok === true,
            present: (s) => s.tokens.verify(S!.deviceId, "operator", tS).kind === "mismatch",
            audited: (s) => s.audit.list({ deviceId: S!.deviceId }).some((r) => r.kind === "rotate"),
          },
        ];

        rmSync(filler.path);
        // Space is back: every change is whole or absent, exactly as acknowledged.
        const store = openStore(join(dir, "state", "gatehouse.sqlite"), { readonly: true });
        try {
          assert.deepEqual(store.integrityCheck(), ["ok"]);
          assert.equal(
            store.pending.getByDevice(N1!.deviceId, Date.now()),
            null,
            "the refused connect left no request",
          );
          assert.equal(store.devices.get(N1!.deviceId), null);
          for (const a of attempts) {
            assert.equal(a.present(store), a.acked, `${a.what}: in the store exactly when acknowledged`);
            assert.equal(a.audited(store), a.acked, `${a.what}: its audit row exactly when applied`);
            if (a.what === "approve" && !a.acked) {
              assert.ok(store.pending.get(rP, Date.now()), "the unapproved request is still pending");
            }
          }
          assert.equal(
            store.tokens.verify(K!.deviceId, "operator", tK).kind,
            "valid",
            "untouched token intact",
          );
        } finally {
          store.close();
        }

        // The same gateway, without a restart, writes again.
        const n2 = await connect(url, N2!, { scopes: ["operator.read"], auth: { token: TOKEN } });
        assert.equal(codeOf(n2.res), "PAIRING_REQUIRED", "a new device can ask again");
        for (const [what, res] of results) {
          if (res?.ok === true) continue;
          const again =
            what === "approve"
              ? await request(owner, "approve-again", "device.pair.approve", { requestId: rP })
              : what === "reject"
                ? await request(owner, "reject-again", "device.pair.reject", { requestId: rJ })
                : what === "revoke"
                  ? await request(owner, "revoke-again", "device.token.revoke", {
                      deviceId: R!.deviceId,
                      role: "operator",
                    })
                  : await request(owner, "rotate-again", "device.token.rotate", {
                      deviceId: S!.deviceId,
                      role: "operator",
                    });
          assert.equal(
            again?.ok,
            true,
            `${what} succeeds once there is space: ${JSON.stringify(again)?.slice(0, 200)}`,
          );
        }
        assert.equal(await gw.stop(), 0, "a clean stop");
        gw = null;
        assert.equal(readGatewayLock(dir), null, "the lock was released");
        const final = openStore(join(dir, "state", "gatehouse.sqlite"), { readonly: true });
        try {
          assert.deepEqual(final.integrityCheck(), ["ok"]);
          assert.equal(final.tokens.verify(R!.deviceId, "operator", tR).kind, "revoked");
          assert.equal(final.tokens.verify(S!.deviceId, "operator", tS).kind, "mismatch");
          assert.ok(final.devices.get(P!.deviceId), "approved after the space came back");
        } finally {
          final.close();
        }
      } finally {
        if (gw && gw.child.exitCode === null) gw.child.kill("SIGKILL");
        unmount(mnt);
      }
    },
  );

  it(
    "stopping (SIGTERM) while the disk is full exits cleanly and releases the lock",
    { skip: SKIP },
    async (t) => {
      const mnt = mountTmpfs("8m");
      let gw: GatewayProcess | null = null;
      let stderr = "";
      try {
        const dir = join(mnt, "state");
        mkdirSync(dir, { mode: 0o700 });
        writeFileSync(
          join(dir, "gatehouse.json"),
          JSON.stringify({
            gateway: { auth: { mode: "token", token: TOKEN }, pairing: { autoApproveLocal: false } },
          }),
        );
        gw = await spawnGateway(["--port", "0", "--state-dir", dir], sandbox.env);
        gw.child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
        const owner = loadIdentity(join(dir, "identity", "device.json"));
        await ownerSession(gw.url, owner);
        fillUp(mnt);
        // An admission queues an audit row (written in batches); stop before the batch is written.
        await ownerSession(gw.url, owner);
        const code = await gw.stop();
        gw = null;
        t.diagnostic(`exit ${code}; stderr: ${stderr.split("\n")[0] ?? ""}`);
        assert.equal(code, 0, `clean exit (stderr: ${stderr.slice(0, 300)})`);
        assert.equal(readGatewayLock(dir), null, "the lock was released");
      } finally {
        if (gw && gw.child.exitCode === null) gw.child.kill("SIGKILL");
        unmount(mnt);
      }
    },
  );
});
