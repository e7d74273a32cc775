// Retiring stale browser devices in bulk: every browser profile that ever opened the Control UI
// became a paired admin device; the owner clears out the ones nobody uses. Which devices are stale
// is the gateway's policy (device.pair.retireStale); this dialog shows its answer (a dry run)
// before anything is removed, and says why each other browser device is kept.

import { h, relativeTime, replace } from "../dom.js";

const CHOICES = [7, 30, 90];

function list(res) {
  if (res.retired.length === 0)
    return h("p", { class: "empty compact" }, `No browser device has been idle for ${res.idleDays} days.`);
  return h(
    "ul",
    { class: "retire-list", "aria-label": "Browser devices to retire" },
    res.retired.map((d) =>
      h(
        "li",
        { "data-retire-id": d.deviceId },
        h("span", { class: "retire-name" }, d.name),
        " ",
        h("code", { class: "id", title: d.deviceId }, d.deviceId.slice(0, 8)),
        h("span", { class: "muted" }, ` · last active ${relativeTime(d.lastActiveAtMs)}`),
      ),
    ),
  );
}

function keptNote(res) {
  if (res.kept.length === 0) return null;
  const why = new Map();
  for (const k of res.kept) why.set(k.reason, (why.get(k.reason) ?? 0) + 1);
  return h(
    "details",
    { class: "kept" },
    h("summary", {}, `${res.kept.length} other browser device${res.kept.length === 1 ? "" : "s"} kept`),
    h(
      "ul",
      {},
      [...why.entries()].map(([reason, n]) => h("li", {}, `${n} × ${reason}`)),
    ),
  );
}

/** Asks the gateway which browser devices are stale, confirms, and retires them. */
export async function retireStaleBrowsers(ctx) {
  let days = 30;
  let res;
  try {
    res = await ctx.request("device.pair.retireStale", { idleDays: days, dryRun: true });
  } catch (err) {
    ctx.notify(`Could not check for stale browser devices: ${err.message}`, "error");
    return;
  }
  const listBox = h("div", { class: "retire-box", "aria-live": "polite" }, list(res), keptNote(res));
  const select = h(
    "select",
    {
      id: "retire-days",
      onchange: async (e) => {
        days = Number(e.target.value);
        try {
          res = await ctx.request("device.pair.retireStale", { idleDays: days, dryRun: true });
          replace(listBox, list(res), keptNote(res));
        } catch (err) {
          replace(listBox, h("p", { class: "warn" }, err.message));
        }
      },
    },
    CHOICES.map((n) => h("option", { value: String(n), selected: n === days }, `${n} days`)),
  );
  const ok = await ctx.confirm({
    title: "Retire stale browser devices?",
    body: [
      h(
        "p",
        {},
        "Every browser that opened this Control UI is a paired device with its own key. ",
        "Retiring removes the ones idle for a while: their approval and tokens are deleted; ",
        "if one of them comes back it has to be approved again. The browser you are using, connected ",
        "devices and the owner are never retired.",
      ),
      h("label", { class: "sort-select", for: "retire-days" }, h("span", {}, "Idle for at least"), select),
      listBox,
    ],
    confirmLabel: "Retire",
    danger: true,
  });
  if (!ok) return;
  try {
    const done = await ctx.request("device.pair.retireStale", { idleDays: days });
    ctx.notify(
      done.retired.length === 0
        ? `No browser device has been idle for ${days} days.`
        : `Retired ${done.retired.length} browser device${done.retired.length === 1 ? "" : "s"} idle for ${days} days or more.`,
      "ok",
    );
  } catch (err) {
    ctx.notify(`Retiring failed: ${err.message}`, "error");
  }
  ctx.refresh("devices", "status", "audit");
}
