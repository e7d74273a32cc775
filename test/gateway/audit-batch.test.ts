/**
 * Audit rows that change no state (admits, refusals, refused upgrades) are queued and written in
 * batches, best-effort: a store that cannot take them (a full disk) loses those rows, never a
 * connect, and never the gateway process.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PairingService } from "../../src/gateway/pairing.js";
import { openStore } from "../../src/store/db.js";
import { StoreError } from "../../src/store/errors.js";

describe("batched audit rows", () => {
  it("a queue that fills while the store refuses writes loses its rows without throwing, and later rows are written", () => {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-audit-batch-"));
    const store = openStore(join(dir, "gatehouse.sqlite"));
    const pairing = new PairingService(
      store,
      "owner",
      { ttlMs: 60_000, total: 16, perIp: 4 },
      { broadcast() {} },
    );
    const { append, appendMany } = store.audit;
    const restore = () => Object.assign(store.audit, { append, appendMany });
    try {
      const full = () => {
        throw new StoreError("STORE_WRITE_FAILED", store.path, "database or disk is full");
      };
      Object.assign(store.audit, { append: full, appendMany: full });
      // More refused upgrades (one row each: distinct addresses) than a batch holds: the one that
      // fills the queue writes it on its own path, inside the gateway's upgrade listener.
      for (let i = 0; i < 1_000; i++) {
        pairing.recordUpgradeRefusal({
          peer: `203.0.113.${i % 250}:${i}`,
          origin: null,
          code: "HOST_NOT_ALLOWED",
          trace: [],
        });
      }
      restore();
      pairing.recordUpgradeRefusal({
        peer: "198.51.100.1",
        origin: null,
        code: "HOST_NOT_ALLOWED",
        trace: [],
      });
      pairing.flushAudit();
      const rows = store.audit.list({});
      assert.deepEqual(
        rows.map((r) => [r.kind, r.peer]),
        [["upgrade", "198.51.100.1"]],
      );
    } finally {
      restore();
      pairing.flushAudit();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
