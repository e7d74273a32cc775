/**
 * Issue "Control UI", item 1 (serving) and the gateway side of item 2: the static files, their
 * content types and security headers, no traversal, the Host check (DNS rebinding, C05) on pages
 * and on browser WebSocket upgrades, `/healthz` unchanged, `audit.list` and the `presence` event.
 * Plain HTTP and raw sockets; no browser (see browser.test.ts for that).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it, before, after } from "node:test";
import { generateIdentity } from "../../src/identity/keys.js";
import { defaultControlUiDir } from "../../src/gateway/http.js";
import { ownHostNames } from "../../src/gateway/own-names.js";
import { isOwnHost, parseHostHeader } from "../../src/policy/upgrade.js";
import { startTestGateway, TEST_TOKEN, type TestGateway } from "../helpers/gateway.js";
import { call, openPeer, sendConnect, upgradeStatus, type Frame } from "../helpers/raw-client.js";

const STATIC_DIR = fileURLToPath(new URL("../../../src/ui/static/", import.meta.url));

interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request: any path (no normalization), any Host. */
function http(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = "GET",
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("Control UI files", () => {
  let gw: TestGateway;
  let port: number;
  before(async () => {
    gw = await startTestGateway({ allowedOrigins: ["https://ui.example.com"] });
    port = gw.server.port;
  });
  after(() => gw.stop());

  it("the files are found in src/ui/static from the compiled gateway (npm start from a clone)", () => {
    assert.equal(defaultControlUiDir(), STATIC_DIR.replace(/\/$/, ""));
  });

  it("GET / serves index.html with a strict CSP (no inline script, frame-ancestors 'none') and safe headers", async () => {
    const r = await http(port, "/", { Host: `127.0.0.1:${port}` });
    assert.equal(r.status, 200);
    assert.equal(r.headers["content-type"], "text/html; charset=utf-8");
    const csp = String(r.headers["content-security-policy"]);
    const directives = new Map(
      csp.split(";").map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name!, values.join(" ")];
      }),
    );
    assert.equal(directives.get("default-src"), "'self'");
    assert.equal(directives.get("script-src"), "'self'", "no 'unsafe-inline', no 'unsafe-eval'");
    assert.equal(directives.get("style-src"), "'self'");
    assert.equal(directives.get("img-src"), "'self' data:");
    assert.equal(directives.get("connect-src"), `'self' ws://127.0.0.1:${port} wss://127.0.0.1:${port}`);
    assert.equal(directives.get("frame-ancestors"), "'none'");
    assert.equal(directives.get("base-uri"), "'none'");
    assert.equal(directives.get("form-action"), "'none'");
    assert.equal(r.headers["x-content-type-options"], "nosniff");
    assert.equal(r.headers["referrer-policy"], "no-referrer");
    assert.equal(r.headers["x-frame-options"], "DENY");
    assert.equal(r.headers["cache-control"], "no-cache");
    assert.match(r.body, /<script type="module" src="\/app\.js"><\/script>/);
  });

  it("every asset has its content type; modules are text/javascript", async () => {
    const cases: Array<[string, string]> = [
      ["/index.html", "text/html; charset=utf-8"],
      ["/app.js", "text/javascript; charset=utf-8"],
      ["/gateway.js", "text/javascript; charset=utf-8"],
      ["/identity.js", "text/javascript; charset=utf-8"],
      ["/signature.js", "text/javascript; charset=utf-8"],
      ["/pages/devices.js", "text/javascript; charset=utf-8"],
      ["/style.css", "text/css; charset=utf-8"],
      ["/favicon.svg", "image/svg+xml"],
    ];
    for (const [path, type] of cases) {
      const r = await http(port, path, { Host: `localhost:${port}` });
      assert.equal(r.status, 200, path);
      assert.equal(r.headers["content-type"], type, path);
      assert.equal(r.headers["x-content-type-options"], "nosniff", path);
      assert.equal(r.body, readFileSync(join(STATIC_DIR, path), "utf8"), `${path} is the file as shipped`);
    }
  });

  it("HEAD answers headers only; a matching ETag answers 304; other methods 405", async () => {
    const head = await http(port, "/app.js", { Host: `127.0.0.1:${port}` }, "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.body, "");
    const etag = String(head.headers.etag);
    const again = await http(port, "/app.js", { Host: `127.0.0.1:${port}`, "If-None-Match": etag });
    assert.equal(again.status, 304);
    const post = await http(port, "/", { Host: `127.0.0.1:${port}` }, "POST");
    assert.equal(post.status, 405);
  });

  it("no directory traversal: only the listed files are ever served; unknown paths are JSON 404", async () => {
    for (const path of [
      "/../package.json",
      "/%2e%2e/package.json",
      "/..%2fpackage.json",
      "/pages/../../../package.json",
      "/pages/%2e%2e/%2e%2e/tsconfig.json",
      "/src/ui/static/index.html",
      "/pages",
      "/pages/",
      "/.hidden",
      "//etc/passwd",
      "/app.js%00.html",
      "/nope",
    ]) {
      const r = await http(port, path, { Host: `127.0.0.1:${port}` });
      assert.equal(r.status, 404, path);
      assert.equal(r.headers["content-type"], "application/json; charset=utf-8", path);
      assert.deepEqual(JSON.parse(r.body), { error: "not found" }, path);
    }
  });

  it("/healthz keeps working, whatever name a probe uses", async () => {
    for (const host of [`127.0.0.1:${port}`, "gateway:18789"]) {
      const r = await http(port, "/healthz", { Host: host });
      assert.equal(r.status, 200);
      assert.equal((JSON.parse(r.body) as { ok: boolean }).ok, true);
    }
  });

  it("C05: a page request whose Host is not one of the gateway's names is refused with 421 and says why", async () => {
    for (const host of [
      `evil.example:${port}`,
      `127.0.0.1.evil.example:${port}`,
      `localhost:${port + 1 === 65536 ? 1 : port + 1}`,
      "localhost",
      `user@127.0.0.1:${port}`,
      `anything.ts.net:${port}`,
    ]) {
      const r = await http(port, "/", { Host: host });
      assert.equal(r.status, 421, host);
      const body = JSON.parse(r.body) as { error: string; code: string };
      assert.equal(body.code, "HOST_NOT_ALLOWED");
      assert.match(body.error, /is not a name of this gateway/);
      assert.equal(r.headers["content-security-policy"], undefined, "no page content at all");
    }
  });

  it("the gateway's own names (loopback names with the port, hosts of allowedOrigins) are accepted", async () => {
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LOCALHOST:${port}`,
      `[::1]:${port}`,
      "ui.example.com",
    ]) {
      assert.equal((await http(port, "/", { Host: host })).status, 200, host);
    }
  });

  it("C02/C05: a browser WebSocket (with Origin) must also be addressed to an own name; without Origin nothing changes", async () => {
    const url = `ws://127.0.0.1:${port}`;
    // The origin is allowed, the Host is not ours: a rebinding page on an allowed origin's name.
    const rebound = await upgradeStatus(url, {
      Origin: "https://ui.example.com",
      Host: `evil.example:${port}`,
    });
    assert.equal(rebound.status, 421);
    assert.match(rebound.body, /host not allowed/);
    assert.equal(
      (await upgradeStatus(url, { Origin: "https://ui.example.com", Host: "ui.example.com" })).status,
      101,
    );
    assert.equal(
      (await upgradeStatus(url, { Origin: `http://127.0.0.1:${port}` })).status,
      101,
      "own origin",
    );
    assert.equal((await upgradeStatus(url, { Origin: "http://127.0.0.1:1" })).status, 403, "another origin");
    // CLIs and SDKs send no Origin: their Host is not checked here (locality handles it).
    assert.equal((await upgradeStatus(url, { Host: "gateway.example:18789" })).status, 101);
  });
});

describe("no inline script or style in the shipped UI", () => {
  const files = (dir: string, rel = ""): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name), `${rel}${e.name}/`) : [`${rel}${e.name}`],
    );

  it("index.html has only external module scripts, no handlers or style attributes", () => {
    const html = readFileSync(join(STATIC_DIR, "index.html"), "utf8");
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.ok(scripts.length > 0);
    for (const [, attrs, body] of scripts) {
      assert.match(attrs!, /\bsrc="\/[\w/.-]+\.js"/);
      assert.match(attrs!, /\btype="module"/);
      assert.equal(body!.trim(), "");
    }
    assert.doesNotMatch(html, /\son[a-z]+=/i, "no inline event handlers");
    assert.doesNotMatch(html, /\sstyle=/i, "no style attributes");
    assert.doesNotMatch(html, /<style\b/i, "no style elements");
  });

  it("the modules never build HTML from strings or evaluate code", () => {
    for (const f of files(STATIC_DIR).filter((f) => f.endsWith(".js"))) {
      const src = readFileSync(join(STATIC_DIR, f), "utf8");
      assert.doesNotMatch(
        src,
        /\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write|\beval\(|new Function\(/,
        f,
      );
      assert.doesNotMatch(src, /setAttribute\(\s*["']style["']/, `${f}: no style attributes (CSP)`);
    }
  });
});

describe("own names", () => {
  it("parses Host headers strictly", () => {
    assert.deepEqual(parseHostHeader("LocalHost:18789"), { name: "localhost", port: 18789 });
    assert.deepEqual(parseHostHeader("[::1]:18789"), { name: "[::1]", port: 18789 });
    assert.deepEqual(parseHostHeader("example.com"), { name: "example.com", port: null });
    for (const bad of [
      "",
      "a b",
      "user@host:1",
      "host/path",
      "host:99999",
      "host:",
      "[::1",
      "evil.example\r\nX: y",
    ]) {
      assert.equal(parseHostHeader(bad), null, JSON.stringify(bad));
    }
  });

  it("loopback names, the bind addresses and allowed-origin hosts, each with its port", () => {
    const names = ownHostNames({
      listenHosts: ["127.0.0.1", "10.1.2.3"],
      port: 18789,
      allowedOrigins: ["https://gate.example.com", "http://dash.example:8080", "*"],
    });
    for (const ok of [
      "127.0.0.1:18789",
      "localhost:18789",
      "[::1]:18789",
      "10.1.2.3:18789",
      "gate.example.com",
      "gate.example.com:443",
      "dash.example:8080",
    ]) {
      assert.ok(isOwnHost(ok, names), ok);
    }
    for (const no of [
      "10.1.2.3:18790",
      "10.1.2.4:18789",
      "dash.example",
      "gate.example.com:18789",
      "evil.example:18789",
      null,
    ]) {
      assert.ok(!isOwnHost(no, names), String(no));
    }
  });

  it("a wildcard bind answers to this machine's interface addresses", () => {
    const names = ownHostNames({ listenHosts: ["0.0.0.0"], port: 18789, allowedOrigins: [] });
    assert.ok(isOwnHost("127.0.0.1:18789", names));
    assert.ok(!isOwnHost("203.0.113.9:18789", names));
  });
});

describe("audit.list and the presence event", () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(() => gw.stop());

  it("audit.list needs operator.admin and returns the tail, current (queued rows flushed first)", async () => {
    const admin = await openPeer(gw.url);
    const hello = await sendConnect(admin, {
      auth: { token: TEST_TOKEN },
      clientId: "gateway-client",
      mode: "backend",
      scopes: ["operator.admin"],
    });
    assert.equal(hello.ok, true);
    const res = await call(admin, "audit.list", { limit: 5 });
    assert.equal(res.ok, true, JSON.stringify(res.error));
    const rows = (res.payload as { rows: Array<{ id: number; kind: string; client: string }> }).rows;
    assert.ok(rows.length >= 1);
    assert.equal(rows[0]!.kind, "connect");
    assert.equal(rows[0]!.client, "gateway-client/backend", "this very connect is already listed");
    const after = await call(admin, "audit.list", { afterId: rows[0]!.id });
    assert.deepEqual((after.payload as { rows: unknown[] }).rows, []);
    const bad = await call(admin, "audit.list", { limit: 0 });
    assert.equal(bad.error?.code, "INVALID_REQUEST");

    const reader = await openPeer(gw.url);
    await sendConnect(reader, {
      auth: { token: TEST_TOKEN },
      clientId: "gateway-client",
      mode: "backend",
      scopes: ["operator.read"],
    });
    const denied = await call(reader, "audit.list", {});
    assert.equal(denied.error?.details?.code, "MISSING_SCOPE");
    assert.equal(denied.error?.details?.missingScope, "operator.admin");
    admin.ws.close();
    reader.ws.close();
  });

  it("a Control UI session hears `presence` when clients come and go; other clients' streams are unchanged", async () => {
    const ui = await openPeer(gw.url);
    const uiHello = await sendConnect(ui, {
      auth: { token: TEST_TOKEN },
      identity: generateIdentity(),
      clientId: "openclaw-control-ui",
      mode: "webchat",
      platform: "web",
      scopes: ["operator.read"],
    });
    assert.equal(uiHello.ok, true, JSON.stringify(uiHello.error));
    assert.ok((uiHello.payload as { features: { events: string[] } }).features.events.includes("presence"));
    const cli = await openPeer(gw.url);
    await sendConnect(cli, { auth: { token: TEST_TOKEN }, scopes: ["operator.read"] });

    /** The next presence event reporting `total` sessions (bursts are coalesced, so wait for it). */
    const presence = async (total: number): Promise<Frame> => {
      for (;;) {
        const f = await ui.next();
        if (f.event === "presence" && f.payload?.total === total) return f;
      }
    };
    const seen = await presence(2);
    assert.deepEqual(seen.payload?.byRole, { operator: 2, node: 0 });
    // The CLI session gets no presence event (its event stream is what it was before).
    const cliFrame = await Promise.race([
      cli.next().catch(() => null),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 300)),
    ]);
    assert.equal(cliFrame, null, `unexpected frame for the CLI: ${JSON.stringify(cliFrame)}`);

    cli.ws.close();
    const gone = await presence(1);
    assert.deepEqual(gone.payload?.byRole, { operator: 1, node: 0 });

    ui.ws.close();
  });
});
