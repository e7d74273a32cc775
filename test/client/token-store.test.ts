import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  FileDeviceTokenStore,
  GatewayClient,
  GatewayClientError,
  MemoryDeviceTokenStore,
} from "../../src/client/index.js";
import { generateIdentity } from "../../src/identity/index.js";
import { FakeGateway } from "./fake-gateway.js";

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-tokens-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const entry = {
  token: "dt-secret-value",
  role: "operator" as const,
  scopes: ["operator.read"],
  issuedAtMs: 5,
};

test("FileDeviceTokenStore writes the documented JSON with mode 0600 in a 0700 directory", (t) => {
  const dir = tempDir(t);
  const path = join(dir, "nested", "device-auth.json");
  const store = new FileDeviceTokenStore(path);
  assert.equal(store.get("dev-1", "operator"), undefined, "missing file reads as empty");

  store.set("dev-1", "operator", entry);
  store.set("dev-1", "node", { ...entry, token: "dt-node", role: "node", scopes: [] });

  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, "nested")).mode & 0o777, 0o700);
  const file = JSON.parse(readFileSync(path, "utf8")) as {
    version: number;
    devices: Record<string, Record<string, Record<string, unknown>>>;
  };
  assert.equal(file.version, 1);
  assert.deepEqual(Object.keys(file.devices["dev-1"]!).sort(), ["node", "operator"]);
  const op = file.devices["dev-1"]!.operator!;
  assert.equal(op.token, "dt-secret-value");
  assert.deepEqual(op.scopes, ["operator.read"]);
  assert.equal(op.issuedAtMs, 5);
  assert.equal(typeof op.updatedAtMs, "number");
  assert.deepEqual(readdirSync(join(dir, "nested")), ["device-auth.json"], "no temp files left behind");

  store.delete("dev-1", "operator");
  assert.equal(store.get("dev-1", "operator"), undefined);
  assert.equal(store.get("dev-1", "node")?.token, "dt-node");
});

test("a corrupt token file is reported clearly and left untouched", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "device-auth.json");
  const garbage = '{"version":1,"devices":{"dev-1":{"operator":{"token":"dt-secret-value"';
  writeFileSync(path, garbage, { mode: 0o600 });
  const store = new FileDeviceTokenStore(path);

  const err = (() => {
    try {
      store.get("dev-1", "operator");
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(err instanceof GatewayClientError);
  assert.equal(err.code, "TOKEN_STORE_FAILED");
  assert.ok(err.message.includes(path));
  assert.match(err.message, /corrupt/);
  assert.ok(!err.message.includes("dt-secret-value"));
  assert.throws(() => store.set("dev-1", "operator", entry), { code: "TOKEN_STORE_FAILED" });
  assert.throws(() => store.delete("dev-1", "operator"), { code: "TOKEN_STORE_FAILED" });
  assert.equal(readFileSync(path, "utf8"), garbage, "file not wiped");

  writeFileSync(path, JSON.stringify({ version: 2, devices: {} }));
  assert.throws(() => store.get("x", "operator"), /unsupported version 2/);

  // A signed connect through a corrupt store fails with the store's error instead of pairing anew.
  writeFileSync(path, garbage);
  const gw = await FakeGateway.start();
  const client = new GatewayClient({ url: gw.url, identity: generateIdentity(), deviceTokenStore: store });
  t.after(async () => {
    await client.close();
    await gw.stop();
  });
  await assert.rejects(client.connect(), { code: "TOKEN_STORE_FAILED" });
  assert.equal(gw.connects.length, 0, "no connect sent");
});

test("MemoryDeviceTokenStore keeps entries per (device, role) and returns copies", () => {
  const store = new MemoryDeviceTokenStore();
  store.set("dev-1", "operator", entry);
  const got = store.get("dev-1", "operator");
  assert.equal(got?.token, "dt-secret-value");
  got!.scopes.push("operator.admin");
  assert.deepEqual(store.get("dev-1", "operator")?.scopes, ["operator.read"]);
  assert.equal(store.get("dev-1", "node"), undefined);
  assert.equal(store.get("dev-2", "operator"), undefined);
  store.delete("dev-1", "operator");
  assert.equal(store.get("dev-1", "operator"), undefined);
});
