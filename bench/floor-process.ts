/**
 * The floor under the gateway's start RSS: a process that does only what a gateway cannot avoid —
 * opens a WAL SQLite file with `better-sqlite3`, listens with `http`, spawns a child and makes an
 * Ed25519 key — and then idles like a started gateway. (It no longer requires `ws`: the gateway
 * serves WebSockets with its own code since src/websocket/server-socket.ts, which is the gateway's
 * program, not its floor.) `bench/startup.bench.ts` starts it as it starts `gatehouse gateway run` and reads its
 * RSS the same ways, so the gateway's figure has a like-for-like floor beside it.
 *
 * With `--start-settings` it also runs with the gateway's start settings (V8 flags while starting,
 * V8's defaults once listening: src/cli/lifecycle/start-settings.ts), so the bench can show what
 * those settings do to Node itself beside what they do to the gateway.
 *
 * Usage: `node dist/bench/floor-process.js <port> <dir> [--start-settings]`.
 */
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { applyServingSettings, applyStartingSettings } from "../src/cli/lifecycle/start-settings.js";

const require = createRequire(import.meta.url);
const port = Number(process.argv[2]);
const dir = process.argv[3]!;
const startSettings = process.argv[4] === "--start-settings";
if (startSettings) applyStartingSettings();

const Database = require("better-sqlite3") as typeof BetterSqlite3;
const db = new Database(join(dir, "floor.sqlite"));
db.pragma("journal_mode = WAL");
db.exec("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v TEXT)");
db.prepare("INSERT OR REPLACE INTO t VALUES (?, ?)").run("k", "v");
generateKeyPairSync("ed25519");
execFileSync("true");
const server = createServer();
server.listen(port, "127.0.0.1", () => applyServingSettings());
process.on("SIGTERM", () => {
  server.close();
  db.close();
  process.exit(0);
});
