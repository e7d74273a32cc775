/**
 * The Control UI reads the error table's columns from a module the gateway serves, never from a
 * copy: what it is served is exactly the table, and its connection code imports it.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { ERROR_TABLE, errorMeaning, type GatewayErrorCode } from "../../src/protocol/errors.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";

function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { Host: `127.0.0.1:${port}` } }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the Control UI's error table", () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(() => gw.stop());

  it("is served as a module holding every code's retry, credential, next step, hint and remedy from the one table", async () => {
    const r = await get(gw.server.port, "/error-table.js");
    assert.equal(r.status, 200);
    assert.equal(r.type, "text/javascript; charset=utf-8");
    const mod = (await import(`data:text/javascript,${encodeURIComponent(r.body)}`)) as {
      ERROR_MEANINGS: Record<string, unknown>;
    };
    const codes = Object.keys(ERROR_TABLE) as GatewayErrorCode[];
    assert.deepEqual(Object.keys(mod.ERROR_MEANINGS).sort(), [...codes].sort());
    for (const code of codes) {
      const row = errorMeaning(code);
      assert.deepEqual(
        mod.ERROR_MEANINGS[code],
        {
          retry: row.retry,
          credential: row.credential ?? null,
          nextStep: row.nextStep ?? null,
          hint: row.hint ?? null,
          remedy: row.remedy ?? null,
        },
        code,
      );
    }
  });

  it("is what the UI's connection imports; the UI keeps no list of refusal codes of its own", () => {
    const src = readFileSync(new URL("../../../src/ui/static/gateway.js", import.meta.url), "utf8");
    assert.match(src, /from "\.\/error-table\.js"/);
    const flow = new Set(["PAIRING_REQUIRED", "AUTH_DEVICE_TOKEN_MISMATCH"]);
    const copied = Object.keys(ERROR_TABLE).filter((code) => !flow.has(code) && src.includes(`"${code}"`));
    assert.deepEqual(copied, [], "codes named in gateway.js beyond the two it has its own flow for");
  });
});
