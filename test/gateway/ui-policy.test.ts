/**
 * The Control UI asks for the scopes the policy decided, read from a module the gateway serves,
 * never from a copy: what it is served is exactly the policy's value, and the pages import it.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { CONTROL_UI_SCOPES } from "../../src/policy/client-defaults.js";
import { methodRequirement } from "../../src/policy/method-scopes.js";
import { scopeSatisfied } from "../../src/policy/scopes.js";
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

const STATIC_DIR = new URL("../../../src/ui/static/", import.meta.url);
const staticFile = (name: string) => readFileSync(new URL(name, STATIC_DIR), "utf8");

describe("the Control UI's scopes", () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(() => gw.stop());

  it("are served as a module holding exactly the policy's ask", async () => {
    const r = await get(gw.server.port, "/policy.js");
    assert.equal(r.status, 200);
    assert.equal(r.type, "text/javascript; charset=utf-8");
    const mod = (await import(`data:text/javascript,${encodeURIComponent(r.body)}`)) as {
      UI_SCOPES: readonly string[];
    };
    assert.deepEqual(mod.UI_SCOPES, [...CONTROL_UI_SCOPES]);
    assert.ok(Object.isFrozen(mod.UI_SCOPES));
  });

  it("are what the UI's connection and pairing screen import; no static file keeps its own copy", () => {
    for (const file of ["gateway.js", "app.js"]) {
      assert.match(staticFile(file), /^import \{ UI_SCOPES \} from "\.\/policy\.js";$/m, file);
      assert.doesNotMatch(staticFile(file), /UI_SCOPES\s*=/, file);
    }
  });

  it("cover every method the UI's pages call by name (one approval admits every page)", () => {
    const called = new Set<string>();
    const files = readdirSync(STATIC_DIR, { recursive: true, encoding: "utf8" }).filter((f) =>
      f.endsWith(".js"),
    );
    for (const file of files) {
      for (const m of staticFile(file).matchAll(/request\(\s*"([\w.-]+)"/g)) called.add(m[1]!);
    }
    assert.ok(called.has("device.pair.list") && called.has("audit.list"), [...called].join(", "));
    for (const method of called) {
      const scope = methodRequirement(method).scope;
      assert.ok(scope === null || scopeSatisfied(CONTROL_UI_SCOPES, scope), `${method} needs ${scope}`);
    }
  });
});
