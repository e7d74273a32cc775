// The Control UI: takes the gateway token from the URL fragment (never the query string) into
// sessionStorage, loads this browser's device key, connects, and renders the page for the current
// `#/route`. Data is refreshed when gateway events say it changed (changedBy); nothing polls.

import { h, refreshTimes, replace } from "./dom.js";
import { GatewayConnection } from "./gateway.js";
import {
  forgetIdentity,
  identityUnavailableReason,
  loadOrCreateIdentity,
  storeDeviceToken,
} from "./identity.js";
import { UI_SCOPES } from "./policy.js";
import { auditPage, loadAudit } from "./pages/audit.js";
import { cronPage } from "./pages/cron.js";
import { devicesPage } from "./pages/devices.js";
import { overviewPage } from "./pages/overview.js";
import { sessionsPage } from "./pages/sessions.js";
import { confirmAction, notify } from "./ui.js";

const TOKEN_KEY = "gatehouse.gatewayToken";
const PAGES = [overviewPage, devicesPage, sessionsPage, cronPage, auditPage];

const app = {
  conn: null,
  identity: null,
  state: { kind: "starting" },
  hello: null,
  data: {
    status: null,
    devices: null,
    nodes: null,
    sessions: null,
    cron: null,
    audit: null,
    auditRules: {},
  },
  errors: {},
  freshAudit: new Set(),
  urlWarning: null,
};

// ---- the token: fragment in, address bar cleaned, kept for this tab only ----

function takeTokenFromUrl() {
  const query = new URLSearchParams(location.search);
  if (query.has("token")) {
    // A token in the query string reaches logs and Referer headers: never use it (reference C21).
    query.delete("token");
    app.urlWarning =
      "A token in the URL query string was ignored and removed: pass it as #token=… (the fragment never leaves the browser).";
  }
  const hash = location.hash.startsWith("#") ? location.hash.slice(1) : "";
  let route = hash.startsWith("/") ? hash : "/overview";
  if (!hash.startsWith("/") && hash.includes("token=")) {
    const fragment = new URLSearchParams(hash);
    const token = fragment.get("token")?.trim();
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    route = "/overview";
  }
  const search = query.toString();
  history.replaceState(null, "", `${location.pathname}${search ? `?${search}` : ""}#${route}`);
}

const sharedToken = () => sessionStorage.getItem(TOKEN_KEY);

// ---- data ----

const loaders = {
  status: () => app.conn.request("status", {}),
  devices: () => app.conn.request("device.pair.list", {}),
  nodes: () => app.conn.request("node.pair.list", {}),
  sessions: () => app.conn.request("sessions.list", { limit: 100 }),
  cron: () => app.conn.request("cron.list", {}),
  audit: () =>
    loadAudit((m, p) => app.conn.request(m, p), app.data.audit, app.data.auditRules, app.freshAudit),
};

let queued = new Set();
let flushTimer = null;

/** Reloads the named data sets soon (several events in a row load each set once). */
function refresh(...names) {
  for (const n of names) queued.add(n);
  if (flushTimer) return;
  flushTimer = setTimeout(async () => {
    flushTimer = null;
    const names = [...queued];
    queued = new Set();
    if (app.state.kind !== "connected") return;
    await Promise.all(
      names.map(async (name) => {
        try {
          app.data[name] = await loaders[name]();
          delete app.errors[name];
        } catch (err) {
          app.errors[name] = `Could not load ${name}: ${err.message}`;
        }
      }),
    );
    render();
  }, 30);
}

/** Calls a method for an action; reports success or the gateway's refusal; refreshes what changed. */
async function act(method, params, success, also = []) {
  try {
    const res = await app.conn.request(method, params);
    notify(success, "ok");
    refresh("devices", "status", "audit", ...also);
    return res;
  } catch (err) {
    notify(`${method} failed: ${err.message}`, "error");
    return null;
  }
}

// ---- events ----

// A device's management (approve, remove, revoke) can pin or end its node surface, end the
// sessions resting on it and disable the cron jobs it created.
const DEVICE_CHANGES = ["devices", "nodes", "status", "audit", "sessions", "cron"];

/** The data sets an event may have changed. */
function changedBy(event, payload) {
  switch (event) {
    case "device.pair.requested":
      return ["devices", "status", "audit"];
    case "device.pair.resolved":
    case "device.pair.changed":
      return DEVICE_CHANGES;
    case "node.pair.requested":
    case "node.pair.resolved":
      return ["nodes", "audit"];
    case "presence":
      return ["status", "devices", "audit", "sessions"];
    case "session.started":
    case "session.ended":
      // A cron job's run is a session: its job's last and next run move with it.
      return payload?.session?.cronJobId ? ["sessions", "cron"] : ["sessions"];
    default:
      return [];
  }
}

/** Loaded on every page (the nav, the overview and the audit trail use them). */
const KEPT = new Set(["status", "devices", "audit"]);

/**
 * Every page follows the events that change what it shows: the data sets an event changed are
 * reloaded when they are kept or the open page shows them (opening a page reads its data anyway).
 */
function follow(event, payload) {
  const page = currentPage();
  const names = changedBy(event, payload).filter((n) => KEPT.has(n) || page.needs.includes(n));
  if (names.length > 0) refresh(...names);
}

function onEvent(event, payload) {
  follow(event, payload);
  switch (event) {
    case "device.pair.requested":
      notify(
        `New pairing request ${payload?.requestId ?? ""} from ${payload?.remoteIp ?? "an unknown address"}` +
          (payload?.browserOrigin ? ` (browser page ${payload.browserOrigin}).` : "."),
        "info",
      );
      break;
    case "node.pair.requested":
      notify(
        `Node ${payload?.displayName ?? payload?.nodeId?.slice(0, 12) ?? ""} asks to expose ` +
          `${(payload?.addedCommands ?? payload?.commands ?? []).join(", ") || "its commands"} (request ${payload?.requestId ?? ""}).`,
        "info",
      );
      break;
    case "shutdown":
      notify(`The gateway is shutting down${payload?.reason ? `: ${payload.reason}` : ""}.`, "info");
      break;
    default:
      break;
  }
}

function onState(state) {
  const was = app.state.kind;
  app.state = state;
  if (state.kind === "connected") {
    app.hello = state.hello;
    if (was !== "connected") {
      refresh("status", "devices", "audit", ...currentPage().needs);
    }
  }
  render();
}

// ---- rendering ----

function currentPage() {
  const id = location.hash.replace(/^#\/?/, "").split(/[/?]/)[0];
  return PAGES.find((p) => p.id === id) ?? overviewPage;
}

function renderNav() {
  const nav = document.getElementById("nav");
  // The pages need a session: until then only the connection state is shown.
  nav.hidden = app.state.kind !== "connected";
  const page = currentPage();
  const pending = app.data.devices?.pending?.length ?? 0;
  replace(
    nav,
    h(
      "ul",
      {},
      PAGES.map((p) =>
        h(
          "li",
          {},
          h(
            "a",
            { href: `#/${p.id}`, "aria-current": p === page ? "page" : false, "data-key": `nav:${p.id}` },
            p.title,
            p.id === "devices" && pending > 0
              ? h("span", { class: "nav-count", "aria-label": `${pending} pending` }, String(pending))
              : null,
          ),
        ),
      ),
    ),
  );
}

function renderConnPill() {
  const el = document.getElementById("conn");
  const s = app.state;
  const label = {
    starting: "Starting…",
    connecting: "Connecting…",
    connected: "Connected",
    pairing: "Waiting for approval",
    refused: "Refused",
    disconnected: "Disconnected",
    unsupported: "Unsupported",
  }[s.kind];
  el.className = `conn conn-${s.kind}`;
  el.dataset.state = s.kind;
  replace(el, h("span", { class: "dot", "aria-hidden": "true" }), label);
}

function tokenForm(hint) {
  const input = h("input", {
    id: "token-input",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "gateway token",
    required: true,
  });
  return h(
    "form",
    {
      class: "token-form",
      onsubmit: (e) => {
        e.preventDefault();
        const v = input.value.trim();
        if (!v) return;
        sessionStorage.setItem(TOKEN_KEY, v);
        input.value = "";
        app.conn.retryNow();
      },
    },
    h("label", { for: "token-input" }, "Gateway token"),
    h(
      "div",
      { class: "token-row" },
      input,
      h("button", { type: "submit", class: "btn btn-primary" }, "Connect"),
    ),
    h("p", { class: "muted small" }, hint),
    h(
      "p",
      { class: "small", id: "dashboard-hint" },
      "Or, on the gateway host, run ",
      h("code", {}, "gatehouse dashboard"),
      " — it opens this page with the token (",
      h("code", {}, "gatehouse dashboard --print"),
      " prints the URL).",
    ),
  );
}

const TOKEN_HINT =
  "It is gateway.auth.token in gatehouse.json in the gateway's state dir (~/.gatehouse). It is kept for this tab only; " +
  "once this browser is approved it signs in with its own device token.";

function statePanel() {
  const s = app.state;
  switch (s.kind) {
    case "starting":
    case "connecting":
      return h(
        "section",
        { class: "state-panel" },
        h("div", { class: "spinner", "aria-hidden": "true" }),
        h("h1", {}, "Connecting to the gateway…"),
        h("p", { class: "muted" }, app.conn?.url ?? ""),
      );
    case "unsupported":
      return h(
        "section",
        { class: "state-panel state-refused" },
        h("h1", {}, "This browser cannot sign in here"),
        h("p", {}, s.message),
      );
    case "pairing":
      return h(
        "section",
        { class: "state-panel state-pairing", "data-request-id": s.requestId ?? "" },
        h("h1", {}, "Waiting for approval"),
        s.revokedRole
          ? h(
              "p",
              { class: "reason", id: "pairing-reason" },
              `This browser's ${s.revokedRole} role was revoked on the gateway, so it has asked again. `,
              "It comes back only when someone who holds every scope it had approves the new request.",
            )
          : h("p", { id: "pairing-reason" }, s.message, "."),
        s.requestId
          ? [
              h("p", {}, "Approve this browser on the gateway host:"),
              h("pre", { class: "command" }, h("code", { id: "approve-command" }, s.command)),
              h(
                "button",
                {
                  type: "button",
                  class: "btn",
                  onclick: () =>
                    navigator.clipboard?.writeText(s.command).then(
                      () => notify("Copied.", "ok"),
                      () => notify("Copy failed: select the command instead.", "error"),
                    ),
                },
                "Copy command",
              ),
              h(
                "p",
                { class: "muted" },
                "or approve request ",
                h("code", {}, s.requestId),
                " from another Control UI.",
              ),
            ]
          : h("p", { class: "muted" }, "Too many requests are pending right now; retrying shortly."),
        h(
          "p",
          {},
          "Asking for: ",
          h(
            "span",
            { class: "chips" },
            (s.requestedScopes ?? UI_SCOPES).map((x) => h("span", { class: "chip" }, x)),
          ),
        ),
        s.approvedScopes
          ? h(
              "p",
              {},
              s.revokedRole ? "Held before the revoke: " : "Approved now: ",
              h(
                "span",
                { class: "chips" },
                s.approvedScopes.map((x) => h("span", { class: "chip" }, x)),
              ),
            )
          : null,
        h(
          "p",
          { class: "muted" },
          "This page retries every few seconds and continues on its own once approved.",
        ),
        h(
          "p",
          { class: "muted small" },
          "This browser's device: ",
          h("code", {}, app.identity?.deviceId ?? ""),
        ),
      );
    case "refused":
      return h(
        "section",
        { class: "state-panel state-refused", "data-code": s.code },
        h("h1", {}, s.needsToken ? "Gateway token needed" : "The gateway refused this browser"),
        h("p", { class: "reason" }, s.message),
        s.needsToken ? tokenForm(TOKEN_HINT) : null,
        s.remedy ? h("p", { class: "remedy" }, s.remedy.explanation) : null,
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", class: "btn", onclick: () => app.conn.retryNow() }, "Try again"),
          h(
            "button",
            {
              type: "button",
              class: "btn btn-danger-outline",
              onclick: async () => {
                const ok = await confirmAction({
                  title: "Forget this browser's device key?",
                  body: h(
                    "p",
                    {},
                    "This browser becomes a new device: it has to be approved again, and the old entry stays in the gateway's device list until removed.",
                  ),
                  confirmLabel: "Forget key",
                  danger: true,
                });
                if (!ok) return;
                await forgetIdentity(app.identity.deviceId);
                location.reload();
              },
            },
            "Forget this browser's key…",
          ),
        ),
      );
    case "disconnected": {
      const secs = Math.max(0, Math.ceil((s.retryAtMs - Date.now()) / 1000));
      return h(
        "section",
        { class: "state-panel state-disconnected" },
        h("h1", {}, "Disconnected"),
        h("p", { class: "reason" }, s.message ?? "The connection to the gateway was lost."),
        h(
          "p",
          { class: "muted" },
          h("span", { id: "retry-in", "data-retry-at": String(s.retryAtMs) }, `Reconnecting in ${secs}s…`),
        ),
        h(
          "button",
          { type: "button", class: "btn btn-primary", onclick: () => app.conn.retryNow() },
          "Reconnect now",
        ),
      );
    }
    default:
      return h("p", {}, "");
  }
}

function pageContext() {
  return {
    data: app.data,
    errors: app.errors,
    identity: app.identity,
    hello: app.hello,
    freshAudit: app.freshAudit,
    refresh,
    rerender: render,
    request: (method, params) => app.conn.request(method, params),
    act,
    confirm: confirmAction,
    notify,
    storeOwnToken: (role, token, issuedAtMs) =>
      storeDeviceToken(app.identity.deviceId, role, { token, issuedAtMs }),
  };
}

function render() {
  renderConnPill();
  renderNav();
  const main = document.getElementById("main");
  const focused = document.activeElement?.closest?.("#main [data-key], #nav [data-key]");
  const focusKey = focused?.dataset.key;
  // A text field being typed in keeps its caret across the redraw its own input caused.
  const caret =
    focused instanceof HTMLInputElement && focused.selectionStart !== null
      ? [focused.selectionStart, focused.selectionEnd]
      : null;
  const page = currentPage();
  document.title = `${page.title} · Gatehouse`;
  const content = app.state.kind === "connected" ? page.render(pageContext()) : statePanel();
  replace(
    main,
    app.urlWarning ? h("p", { class: "notice notice-error inline" }, app.urlWarning) : null,
    content,
  );
  main.dataset.page = app.state.kind === "connected" ? page.id : app.state.kind;
  if (focusKey) {
    // Keep keyboard focus across re-renders; when its element is gone (an approved request), land on the page.
    const again = document.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
    if (again) {
      again.focus();
      if (caret && again instanceof HTMLInputElement) again.setSelectionRange(caret[0], caret[1]);
    } else if (!document.getElementById("dialog").open) main.focus({ preventScroll: true });
  }
}

window.addEventListener("hashchange", () => {
  const page = currentPage();
  if (app.state.kind === "connected") refresh(...page.needs, ...(page.refreshOnVisit ?? []));
  render();
  document.getElementById("main").focus({ preventScroll: true });
});

setInterval(() => {
  refreshTimes();
  const retry = document.getElementById("retry-in");
  if (retry)
    retry.textContent = `Reconnecting in ${Math.max(0, Math.ceil((Number(retry.dataset.retryAt) - Date.now()) / 1000))}s…`;
}, 1000);

async function main() {
  takeTokenFromUrl();
  render();
  const reason = identityUnavailableReason();
  if (reason) {
    onState({ kind: "unsupported", message: reason });
    return;
  }
  try {
    app.identity = await loadOrCreateIdentity();
  } catch (err) {
    onState({ kind: "unsupported", message: err.message });
    return;
  }
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  app.conn = new GatewayConnection({
    url: `${scheme}://${location.host}`,
    identity: app.identity,
    sharedToken,
    onState,
    onEvent,
  });
  app.conn.start();
}

void main();
