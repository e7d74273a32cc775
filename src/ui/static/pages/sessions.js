// Sessions: processes the gateway runs for callers (sub-agents, cron runs).

import { h, shortId, table, timeAgo } from "../dom.js";

function statusBadge(s) {
  return h("span", { class: ["badge", `badge-${s.status}`] }, s.status);
}

function commandText(cmd) {
  return cmd.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
}

/** `device:<id>` with the id shortened; other callers as they are. */
export function by(createdBy) {
  const m = /^device:([0-9a-f]{64})$/.exec(createdBy ?? "");
  return m ? h("span", {}, "device ", shortId(m[1])) : h("code", {}, createdBy ?? "—");
}

async function kill(ctx, s) {
  const ok = await ctx.confirm({
    title: `Stop session ${s.id}?`,
    body: h(
      "p",
      {},
      "The process ",
      h("code", {}, commandText(s.command)),
      ` (pid ${s.pid ?? "?"}) gets SIGTERM, then SIGKILL if it does not exit. Its runtime token stops working.`,
    ),
    confirmLabel: "Stop session",
    danger: true,
  });
  if (!ok) return;
  await ctx.act("sessions.kill", { id: s.id }, `Stopped session ${s.id}.`, ["sessions"]);
}

export const sessionsPage = {
  id: "sessions",
  title: "Sessions",
  needs: ["sessions"],
  refreshOnVisit: ["sessions"],
  render(ctx) {
    const data = ctx.data.sessions;
    return h(
      "div",
      { class: "page" },
      h(
        "div",
        { class: "page-head" },
        h("h1", {}, "Sessions"),
        h(
          "button",
          {
            type: "button",
            class: "btn",
            "data-key": "refresh-sessions",
            onclick: () => ctx.refresh("sessions"),
          },
          "Refresh",
        ),
      ),
      h(
        "p",
        { class: "muted" },
        "Processes the gateway started for its callers. Each runs with a short-lived runtime token, never the shared secret.",
      ),
      !data
        ? h("p", { class: "muted" }, ctx.errors.sessions ?? "Loading…")
        : table(
            [
              { label: "Session", cell: (s) => h("code", {}, s.id) },
              { label: "Status", cell: statusBadge },
              {
                label: "Command",
                cell: (s) =>
                  h("code", { class: "cmd" }, (s.label ? `[${s.label}] ` : "") + commandText(s.command)),
              },
              { label: "Started", cell: (s) => timeAgo(s.startedAtMs) },
              { label: "By", cell: (s) => by(s.createdBy) },
              { label: "Exit", cell: (s) => s.signal ?? (s.exitCode === null ? "—" : String(s.exitCode)) },
              {
                label: "",
                cell: (s) =>
                  s.status === "running"
                    ? h(
                        "button",
                        {
                          type: "button",
                          class: "btn btn-small",
                          "data-key": `kill:${s.id}`,
                          onclick: () => kill(ctx, s),
                        },
                        "Stop…",
                      )
                    : null,
              },
            ],
            data.sessions,
            { empty: "No sessions yet." },
          ),
    );
  },
};
