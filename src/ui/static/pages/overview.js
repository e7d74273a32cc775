// Overview: the gateway, who is connected (by role), how many requests wait for approval.

import { deviceName, duration, h, shortId, table } from "../dom.js";

function stat(label, value, extra) {
  return h(
    "div",
    { class: "stat" },
    h("div", { class: "stat-value" }, value),
    h("div", { class: "stat-label" }, label),
    extra,
  );
}

export const overviewPage = {
  id: "overview",
  title: "Overview",
  needs: ["status", "devices"],
  render(ctx) {
    const { status, devices } = ctx.data;
    if (!status) return h("p", { class: "muted" }, ctx.errors.status ?? "Loading…");
    const gw = status.gateway;
    const byRole = status.connections.byRole ?? {};
    const pending = devices?.pending ?? [];
    const paired = devices?.paired ?? [];
    const names = new Map(paired.map((d) => [d.deviceId, deviceName(d)]));
    const self = ctx.identity.deviceId;

    return h(
      "div",
      { class: "page" },
      h("h1", {}, "Overview"),
      h(
        "section",
        { class: "stats", "aria-label": "Summary" },
        stat("connected clients", String(status.connections.total)),
        stat("operators", String(byRole.operator ?? 0)),
        stat("nodes", String(byRole.node ?? 0)),
        stat(
          "pending requests",
          String(pending.length),
          pending.length > 0
            ? h("a", { href: "#/devices", class: "stat-link", "data-key": "review-pending" }, "Review →")
            : null,
        ),
        stat("paired devices", String(paired.length)),
      ),
      h(
        "section",
        { class: "card" },
        h("h2", {}, "Gateway"),
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, "Version"),
          h("dd", {}, gw.version),
          h("dt", {}, "Up for"),
          h(
            "dd",
            {},
            duration(gw.uptimeMs),
            " ",
            h("span", { class: "muted" }, `(since ${new Date(gw.startedAtMs).toLocaleString()})`),
          ),
          h("dt", {}, "Auth mode"),
          h("dd", {}, gw.authMode),
          h("dt", {}, "Listening"),
          h(
            "dd",
            {},
            h(
              "span",
              { class: "chips" },
              gw.urls.map((u) => h("code", { class: "chip" }, u)),
            ),
          ),
        ),
      ),
      h(
        "section",
        { class: "card" },
        h("h2", {}, "Connected clients"),
        table(
          [
            { label: "Client", cell: (c) => h("span", {}, c.client) },
            { label: "Role", cell: (c) => h("span", { class: ["badge", `badge-${c.role}`] }, c.role) },
            {
              label: "Device",
              cell: (c) =>
                c.deviceId
                  ? h(
                      "span",
                      {},
                      names.get(c.deviceId) ?? "",
                      " ",
                      shortId(c.deviceId),
                      c.deviceId === self ? h("span", { class: "badge badge-self" }, "this browser") : null,
                    )
                  : h("span", { class: "muted" }, "no device (shared token)"),
            },
            { label: "Address", cell: (c) => h("code", {}, c.clientIp ?? "—") },
            { label: "Connected for", cell: (c) => duration(c.connectedForMs) },
          ],
          status.connections.clients,
          { empty: "No clients connected." },
        ),
      ),
      h(
        "section",
        { class: "card" },
        h("h2", {}, "This browser"),
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, "Device ID"),
          h("dd", {}, h("code", { class: "id-full" }, self)),
          h("dt", {}, "Session scopes"),
          h(
            "dd",
            {},
            h(
              "span",
              { class: "chips" },
              status.self.scopes.map((s) => h("span", { class: "chip" }, s)),
            ),
          ),
          h("dt", {}, "Signed in with"),
          h("dd", {}, ctx.hello?.auth?.method ?? "—"),
        ),
      ),
    );
  },
};
