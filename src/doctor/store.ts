/** The pairing store: present, ours, readable, sound — and never touched when it is not. */
import { integrityOk } from "./files.js";
import type { Check } from "./types.js";

const HANDS_OFF =
  "doctor leaves a damaged store exactly as it is: stop the gateway, copy the file somewhere safe, then restore a " +
  "backup, or move it aside to start fresh (every device must pair again)";

export const storeCheck: Check = {
  id: "store-integrity",
  title: "the pairing store opens and passes PRAGMA integrity_check",
  run(facts) {
    const s = facts.store;
    if (s.state === "missing") {
      return [
        {
          id: "store-missing",
          severity: "info",
          subject: s.path,
          message: `there is no pairing store at ${s.path} yet.`,
          fix: "nothing to do: the gateway creates it on first start (gatehouse gateway start)",
        },
      ];
    }
    if (s.state === "unusable") {
      const id =
        s.code === "STORE_CORRUPT"
          ? "store-corrupt"
          : s.code === "STORE_NEWER_SCHEMA"
            ? "store-newer-schema"
            : "store-unreadable";
      return [
        {
          id,
          severity: "error",
          subject: s.path,
          message: s.message,
          fix: id === "store-corrupt" ? HANDS_OFF : "follow the message; doctor does not change the store",
        },
      ];
    }
    if (!integrityOk(s.integrity)) {
      const shown = s.integrity.slice(0, 3).join("; ");
      const more = s.integrity.length > 3 ? ` (and ${s.integrity.length - 3} more)` : "";
      return [
        {
          id: "store-integrity",
          severity: "error",
          subject: s.path,
          message: `PRAGMA integrity_check on ${s.path} reports: ${shown}${more}.`,
          fix: HANDS_OFF,
        },
      ];
    }
    return [];
  },
};
