/** What every repository shares: the connection, the file it names in errors, and the write path. */
import type Database from "better-sqlite3";
import { toStoreError } from "./errors.js";

/** The handle a repository is built on; only `db.ts` creates one. */
export interface StoreContext {
  readonly db: Database.Database;
  readonly path: string;
  /** Runs `fn` in an IMMEDIATE transaction (a savepoint when nested); SQLite failures become StoreErrors. */
  write<T>(fn: () => T): T;
  /** Runs a read; SQLite failures become StoreErrors. */
  read<T>(fn: () => T): T;
}

/** Builds the context for an open connection. */
export function createContext(db: Database.Database, path: string): StoreContext {
  // One transaction function for all writes: better-sqlite3 turns nested calls into savepoints.
  const runner = db.transaction((fn: () => unknown) => fn());
  return {
    db,
    path,
    write<T>(fn: () => T): T {
      try {
        return runner.immediate(fn) as T;
      } catch (err) {
        throw toStoreError(err, path, "write");
      }
    },
    read<T>(fn: () => T): T {
      try {
        return fn();
      } catch (err) {
        throw toStoreError(err, path, "read");
      }
    },
  };
}
