/**
 * Reading the local pairing store directly, read-only: beside a running gateway (WAL lets a reader
 * in while it writes) or when it is stopped. Nothing here ever writes or takes the gateway lock.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { statePaths } from "../../config/index.js";
import { DeviceManager, STATE_DIR_OWNER } from "../../devices/manager.js";
import { loadIdentity } from "../../identity/index.js";
import { openStore, type Store } from "../../store/index.js";
import type { PairList } from "../devices/types.js";
import { CliError, EXIT } from "../output.js";
import { lifecyclePaths } from "./state.js";

/** Opens `<state>/state/gatehouse.sqlite` read-only; null when there is no store yet. */
export function openLocalStore(stateDir: string): Store | null {
  const file = lifecyclePaths(stateDir).storeFile;
  if (!existsSync(file)) return null;
  return openStore(file, { readonly: true });
}

/** Whether this state dir holds a gateway's pairing store (i.e. a gateway has run from it). */
export function hasGatewayStore(stateDir: string): boolean {
  return existsSync(lifecyclePaths(stateDir).storeFile);
}

/** Like {@link openLocalStore}, but a missing store is an error that says what to do. */
export function requireLocalStore(stateDir: string): Store {
  const store = openLocalStore(stateDir);
  if (store) return store;
  const file = lifecyclePaths(stateDir).storeFile;
  throw new CliError(
    "STORE_MISSING",
    `there is no pairing store at ${file} yet`,
    EXIT.failed,
    "start the gateway once first: gatehouse gateway start",
    { fields: { path: file } },
  );
}

/** The owner's deviceId from the state dir's identity file, without creating one. */
export function ownerDeviceId(stateDir: string): string | null {
  const path = join(statePaths(stateDir).identityDir, "device.json");
  if (!existsSync(path)) return null;
  try {
    return loadIdentity(path).deviceId;
  } catch {
    return null;
  }
}

/** `device.pair.list` as the gateway would answer the owner, computed from the store (no one connected). */
export function pairListFromStore(store: Store, stateDir: string): PairList {
  const devices = new DeviceManager(store, ownerDeviceId(stateDir) ?? "");
  return devices.list(STATE_DIR_OWNER);
}
