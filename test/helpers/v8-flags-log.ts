/**
 * Preload (`node --import`) that records every `v8.setFlagsFromString` call of the process to the
 * file named by GATEHOUSE_TEST_V8_FLAGS_LOG, one JSON line each: the flags, and whether the store's
 * SQLite binding had been loaded by then (it loads with the gateway's modules). Tests use it to see
 * which V8 settings a real `gatehouse gateway run` sets, and when.
 */
import { appendFileSync } from "node:fs";

const v8 = process.getBuiltinModule("node:v8");
const { _cache: requireCache } = process.getBuiltinModule("node:module") as unknown as {
  _cache: Record<string, unknown>;
};
const log = process.env.GATEHOUSE_TEST_V8_FLAGS_LOG;
const setFlags = v8.setFlagsFromString.bind(v8);

v8.setFlagsFromString = (flags: string) => {
  const storeLoaded = Object.keys(requireCache).some((path) => path.includes("better-sqlite3"));
  if (log) appendFileSync(log, `${JSON.stringify({ flags, storeLoaded })}\n`);
  setFlags(flags);
};
