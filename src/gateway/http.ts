/**
 * The gateway's plain HTTP side: `/healthz`, and the Control UI's static files (src/ui/static,
 * shipped as-is, no build step, plus the modules the gateway writes from its error table and policy) with a strict Content-Security-Policy. Requests for the UI must
 * name the gateway in their Host header (DNS-rebinding defence); anything else is JSON 404.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isOwnHost } from "../policy/upgrade.js";
import { UI_ERROR_TABLE_PATH, uiErrorTableModule } from "./ui-error-table.js";
import { UI_POLICY_PATH, uiPolicyModule } from "./ui-policy.js";

export interface HttpHandlerOptions {
  version: string;
  /** Is the gateway shutting down (healthz answers 503)? */
  stopping(): boolean;
  /** `name:port` strings the gateway answers to (see own-names.ts). */
  ownNames(): ReadonlySet<string>;
  /** Folder with the Control UI's files; null serves no UI. */
  controlUiDir: string | null;
}

/** Where the UI's files live: `<package root>/src/ui/static`, from `dist/src/gateway/http.js` or the source tree. */
export function defaultControlUiDir(): string | null {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const candidates = [
    join(here, "..", "..", "..", "src", "ui", "static"), // dist/src/gateway → package root
    join(here, "..", "ui", "static"), // src/gateway (run from the source tree)
  ];
  return candidates.find((dir) => existsSync(join(dir, "index.html"))) ?? null;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

const JSON_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

/** The Content-Security-Policy for UI responses; `host` is the (already checked) Host header. */
export function controlUiCsp(host: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ws://${host} wss://${host}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "object-src 'none'",
  ].join("; ");
}

/** A file of the UI's folder, or a module the gateway writes itself (`body`). */
interface Asset {
  file: string;
  type: string;
  body?: Buffer;
}

/**
 * The UI's files by URL path (`/`, `/app.js`, `/pages/devices.js`, ...), listed once: a request can
 * only ever name one of these, so `..`, encoded slashes or symlinks lead nowhere.
 */
function listAssets(dir: string | null): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!dir) return assets;
  const walk = (abs: string, rel: string) => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const p = join(abs, entry.name);
      if (entry.isDirectory()) walk(p, `${rel}/${entry.name}`);
      else if (entry.isFile()) {
        const type = CONTENT_TYPES[extname(entry.name).toLowerCase()];
        if (type) assets.set(`${rel}/${entry.name}`, { file: p, type });
      }
    }
  };
  walk(dir, "");
  // Generated from the one error table, so the UI never keeps a copy of it.
  assets.set(UI_ERROR_TABLE_PATH, {
    file: UI_ERROR_TABLE_PATH,
    type: CONTENT_TYPES[".js"]!,
    body: Buffer.from(uiErrorTableModule(), "utf8"),
  });
  // Generated from the policy, so the UI never keeps a copy of the scopes it asks for.
  assets.set(UI_POLICY_PATH, {
    file: UI_POLICY_PATH,
    type: CONTENT_TYPES[".js"]!,
    body: Buffer.from(uiPolicyModule(), "utf8"),
  });
  const index = assets.get("/index.html");
  if (index) assets.set("/", index);
  return assets;
}

function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}) {
  res.writeHead(status, { ...JSON_HEADERS, ...extra });
  res.end(JSON.stringify(body));
}

/** The `request` handler of the gateway's HTTP listeners. */
export function createHttpHandler(
  options: HttpHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  // Listed on the first request, not at start: a gateway nobody opens the UI of never walks the
  // folder or builds the error-table module.
  let listed: Map<string, Asset> | undefined;
  const assets = () => (listed ??= listAssets(options.controlUiDir));
  const cache = new Map<string, { mtimeMs: number; body: Buffer; etag: string }>();

  const read = (asset: Asset) => {
    const mtimeMs = asset.body ? 0 : statSync(asset.file).mtimeMs;
    const hit = cache.get(asset.file);
    if (hit && hit.mtimeMs === mtimeMs) return hit;
    const body = asset.body ?? readFileSync(asset.file);
    const entry = {
      mtimeMs,
      body,
      etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
    };
    cache.set(asset.file, entry);
    return entry;
  };

  return (req, res) => {
    const path = (req.url ?? "/").split(/[?#]/)[0] ?? "/";
    const method = req.method ?? "GET";
    if (path === "/healthz" && (method === "GET" || method === "HEAD")) {
      // Health probes (containers, load balancers) use whatever name reaches the gateway.
      const stopping = options.stopping();
      sendJson(res, stopping ? 503 : 200, { ok: !stopping, version: options.version });
      return;
    }
    const asset = assets().get(path);
    if (!asset) {
      sendJson(res, 404, { error: "not found" });
      return;
    }
    const host = req.headers.host ?? null;
    if (!isOwnHost(host, options.ownNames())) {
      // 421 Misdirected Request: this gateway is not the server that name belongs to.
      sendJson(res, 421, {
        error:
          `Host ${JSON.stringify(host ?? "")} is not a name of this gateway: open the Control UI at ` +
          "http://127.0.0.1:<port>/ (or localhost), or list the origin in gateway.controlUi.allowedOrigins",
        code: "HOST_NOT_ALLOWED",
      });
      return;
    }
    if (method !== "GET" && method !== "HEAD") {
      sendJson(res, 405, { error: "method not allowed" }, { allow: "GET, HEAD" });
      return;
    }
    let entry;
    try {
      entry = read(asset);
    } catch {
      sendJson(res, 404, { error: "not found" });
      return;
    }
    const headers: Record<string, string> = {
      "content-type": asset.type,
      "cache-control": "no-cache",
      etag: entry.etag,
      "content-security-policy": controlUiCsp(host!.trim()),
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "x-frame-options": "DENY",
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-resource-policy": "same-origin",
      "permissions-policy": "camera=(), microphone=(), geolocation=()",
    };
    if (req.headers["if-none-match"] === entry.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers["content-length"] = String(entry.body.length);
    res.writeHead(200, headers);
    res.end(method === "HEAD" ? undefined : entry.body);
  };
}
