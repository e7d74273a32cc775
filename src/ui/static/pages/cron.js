// Cron jobs: scheduled work, each run a session with the job's own scopes.

import { chips, h, table, timeAgo } from "../dom.js";
import { by } from "./sessions.js";

export const cronPage = {
  id: "cron",
  title: "Cron",
  needs: ["cron"],
  refreshOnVisit: ["cron"],
  render(ctx) {
    const data = ctx.data.cron;
    return h(
      "div",
      { class: "page" },
      h(
        "div",
        { class: "page-head" },
        h("h1", {}, "Cron jobs"),
        h(
          "button",
          { type: "button", class: "btn", "data-key": "refresh-cron", onclick: () => ctx.refresh("cron") },
          "Refresh",
        ),
      ),
      h(
        "p",
        { class: "muted" },
        "Each run is a session whose runtime token carries the job's scopes — never more than its creator held.",
      ),
      !data
        ? h("p", { class: "muted" }, ctx.errors.cron ?? "Loading…")
        : table(
            [
              {
                label: "Job",
                cell: (j) => h("span", {}, j.name ?? "", " ", h("code", { class: "muted" }, j.id)),
              },
              {
                label: "Schedule",
                cell: (j) =>
                  h(
                    "span",
                    {},
                    h("code", {}, j.schedule),
                    j.timezone ? h("span", { class: "muted" }, ` ${j.timezone}`) : null,
                  ),
              },
              { label: "Command", cell: (j) => h("code", { class: "cmd" }, j.command.join(" ")) },
              { label: "Scopes", cell: (j) => chips(j.scopes) },
              {
                label: "Enabled",
                cell: (j) =>
                  h(
                    "span",
                    { class: ["badge", j.enabled ? "badge-running" : "badge-off"] },
                    j.enabled ? "yes" : "no",
                  ),
              },
              {
                label: "Next run",
                cell: (j) => (j.nextRunAtMs ? timeAgo(j.nextRunAtMs) : h("span", { class: "muted" }, "—")),
              },
              { label: "Last run", cell: (j) => timeAgo(j.lastRunAtMs) },
              { label: "By", cell: (j) => by(j.createdBy) },
            ],
            data.jobs,
            { empty: "No cron jobs. Add one with `gatehouse cron add`." },
          ),
    );
  },
};
