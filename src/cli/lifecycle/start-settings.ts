/**
 * V8 settings of the `gatehouse gateway run` process while it starts, and back to V8's defaults
 * once it serves. A start loads about 180 modules once; what that leaves behind, the gateway keeps
 * for its whole life (bench/README.md, "What the start leaves behind"):
 *
 * - TurboFan compiled Node's own module-loader functions (path normalising, URL parsing), which
 *   loading 180 modules makes hot, and so faulted in about 3.4 MB of the node binary's compiler
 *   code (and its threads' malloc arenas) for functions that never run hot again. While starting,
 *   TurboFan is off; once the gateway serves it is on, and what traffic makes hot is optimised.
 * - Module loading's allocations survive, so V8 grew the young generation to 8 MB (about 5 MB
 *   resident) for a burst that was over. While starting it does not grow; once serving, it grows
 *   with the traffic as before.
 *
 * Both are flags V8 reads as it runs (not when the heap is set up), so the process sets them
 * itself: no wrapper and no second Node start, and every way of starting the gateway (`gatehouse
 * gateway run`, `gateway start`, the systemd unit, `npm start`) gets them. A library embedder's
 * process is left alone (`createGateway` never comes here). A user who chose one of these flags
 * (in argv or NODE_OPTIONS) keeps their choice: nothing is set.
 */
import v8 from "node:v8";

/** Set before the gateway's modules load. */
export const STARTING_FLAGS = "--no-opt --semi-space-growth-factor=1";
/** Set once the gateway serves: V8's defaults (Node 20's V8 11.3, `node --v8-options`). */
export const SERVING_FLAGS = "--opt --semi-space-growth-factor=2";

/** True when the user's own flags (argv or NODE_OPTIONS) name a setting this module changes. */
export function userChoseFlags(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return [...execArgv, ...(nodeOptions ?? "").split(/\s+/)].some((word) =>
    /^--(no-)?(opt|turbofan|semi-space-growth-factor)(=|$)/.test(word.replace(/_/g, "-")),
  );
}

/** Sets V8 flags; `v8.setFlagsFromString` looked up at each call (a test's preload may watch it). */
export type SetFlags = (flags: string) => void;
const setV8Flags: SetFlags = (flags) => v8.setFlagsFromString(flags);

/**
 * The serving flags still to set, when the starting ones were set. Kept on `globalThis`, not in
 * this module: main.js sets the starting flags through tsc's copy of this module, and the gateway
 * in the CLI bundle (dist/src/bundle/) sets the serving ones through the bundle's own copy.
 */
const SERVING_PENDING = Symbol.for("gatehouse.start-settings.serving-pending");
const shared = globalThis as { [SERVING_PENDING]?: SetFlags | null };

/** Sets the starting flags, unless the user chose their own. */
export function applyStartingSettings(
  setFlags: SetFlags = setV8Flags,
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): void {
  if (userChoseFlags(execArgv, nodeOptions)) return;
  setFlags(STARTING_FLAGS);
  shared[SERVING_PENDING] = setFlags;
}

/** Sets the serving flags once the gateway serves; nothing when the starting ones were not set. */
export function applyServingSettings(): void {
  const setFlags = shared[SERVING_PENDING];
  shared[SERVING_PENDING] = null;
  setFlags?.(SERVING_FLAGS);
}
