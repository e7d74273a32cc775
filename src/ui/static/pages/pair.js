// Pairing another machine with a setup code: pick what it may do and for how long, then show the
// single-use code, its QR code and the command to run over there. The gateway mints the code
// (device.pair.setupCode, decided by its policy) and says which URL it advertises; a URL only this
// machine can reach, or plain ws:// across the network, is said out loud.

import { h, relativeTime, replace } from "../dom.js";

const PROFILES = [
  ["operator-limited", "Operator: read, write and approvals"],
  ["operator-full", "Operator with every scope (needs admin)"],
  ["node", "Node host (runs commands; needs admin)"],
];
const TTLS = [
  [10 * 60_000, "10 minutes"],
  [60 * 60_000, "1 hour"],
  [24 * 60 * 60_000, "24 hours"],
];

const LOOPBACK = /^wss?:\/\/(127\.|localhost|\[::1\])/i;

/** Draws a QR matrix on a canvas: `scale` px per module and the standard 4-module quiet zone. */
export function qrCanvas(qr, scale = 5) {
  const quiet = 4;
  const side = (qr.size + 2 * quiet) * scale;
  const canvas = h("canvas", {
    width: String(side),
    height: String(side),
    class: "qr",
    role: "img",
    "aria-label": "QR code of the setup link",
    "data-size": String(qr.size),
  });
  const g = canvas.getContext("2d");
  g.fillStyle = "#ffffff";
  g.fillRect(0, 0, side, side);
  g.fillStyle = "#000000";
  for (let row = 0; row < qr.size; row++)
    for (let col = 0; col < qr.size; col++)
      if (qr.modules[row * qr.size + col] === "1")
        g.fillRect((col + quiet) * scale, (row + quiet) * scale, scale, scale);
  return canvas;
}

function copyButton(ctx, text, what) {
  return h(
    "button",
    {
      type: "button",
      class: "btn btn-small",
      onclick: () =>
        navigator.clipboard?.writeText(text).then(
          () => ctx.notify(`Copied the ${what}.`, "ok"),
          () => ctx.notify(`Copy failed: select the ${what} instead.`, "error"),
        ),
    },
    "Copy",
  );
}

function warnings(m) {
  const out = [];
  if (LOOPBACK.test(m.url))
    out.push(
      `This code points at ${m.url}, which only this machine can reach. Bind the gateway to an address ` +
        "the other machine can reach (gateway.bind) and create a new code.",
    );
  else if (/^ws:/i.test(m.url))
    out.push(
      "This gateway serves plain ws://: the code and the device's tokens cross the network unencrypted. " +
        "Turn on TLS (gateway.tls.enabled) before pairing over a network you do not trust.",
    );
  return out.map((w) => h("p", { class: "warn", "data-warning": "true" }, w));
}

function minted(ctx, m) {
  const command =
    m.profile === "node" ? `gatehouse node run --pair '${m.link}'` : `gatehouse connect --pair '${m.link}'`;
  return h(
    "div",
    { class: "minted", "data-code": m.code },
    h(
      "div",
      { class: "minted-top" },
      m.qr ? qrCanvas(m.qr) : null,
      h(
        "div",
        { class: "minted-facts" },
        h("div", { class: "muted small" }, "Setup code (single use)"),
        h("div", { class: "setup-code", id: "setup-code" }, m.code),
        h(
          "p",
          { class: "muted small" },
          "Expires ",
          h("time", { dataset: { ts: String(m.expiresAtMs) } }, relativeTime(m.expiresAtMs)),
          ".",
        ),
        h(
          "p",
          { class: "small" },
          m.roles.includes("node") ? "Role node." : `Role operator: ${m.scopes.join(", ")}.`,
        ),
        h("p", { class: "small" }, "Gateway ", h("code", { id: "setup-url" }, m.url)),
      ),
    ),
    warnings(m),
    h("p", { class: "small" }, "On the other machine, scan the QR code or run:"),
    h(
      "div",
      { class: "command-row" },
      h("pre", { class: "command" }, h("code", { id: "setup-command" }, command)),
      copyButton(ctx, command, "command"),
    ),
  );
}

/** Opens the pairing dialog on the page's <dialog>; resolves when it closes. */
export function pairDevice(ctx) {
  const dialog = document.getElementById("dialog");
  const profile = h(
    "select",
    { id: "pair-profile" },
    PROFILES.map(([v, label]) => h("option", { value: v }, label)),
  );
  const ttl = h(
    "select",
    { id: "pair-ttl" },
    TTLS.map(([v, label]) => h("option", { value: String(v) }, label)),
  );
  const result = h("div", { class: "pair-result", "aria-live": "polite" });
  const create = h("button", { type: "submit", class: "btn btn-primary", id: "pair-create" }, "Create code");
  const close = h("button", { type: "button", class: "btn", value: "cancel" }, "Close");
  const form = h(
    "form",
    { method: "dialog", class: "dialog-form pair-form" },
    h("h2", { id: "dialog-title" }, "Pair a new device"),
    h(
      "p",
      { class: "muted" },
      "A setup code pre-approves exactly one device with what you pick here. Nobody has to approve it again.",
    ),
    h(
      "div",
      { class: "pair-options" },
      h("label", { class: "field", for: "pair-profile" }, "It may act as", profile),
      h("label", { class: "field", for: "pair-ttl" }, "Valid for", ttl),
    ),
    result,
    h("div", { class: "dialog-actions" }, close, create),
  );
  return new Promise((resolve) => {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      create.disabled = true;
      try {
        const m = await ctx.request("device.pair.setupCode", {
          profile: profile.value,
          ttlMs: Number(ttl.value),
          qr: true,
        });
        replace(result, minted(ctx, m));
        create.textContent = "Create another";
      } catch (err) {
        replace(result, h("p", { class: "warn", role: "alert" }, `No code: ${err.message}`));
      } finally {
        create.disabled = false;
      }
    });
    close.addEventListener("click", () => dialog.close());
    dialog.onclose = () => resolve();
    dialog.setAttribute("aria-labelledby", "dialog-title");
    replace(dialog, form);
    dialog.showModal();
    profile.focus();
  });
}
