/** Temp state dirs for config tests, removed after each test. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";

/** A fresh empty directory, deleted when the test ends. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-config-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A state dir whose `gatehouse.json` holds `content` (an object is written as JSON). */
export function stateWithFile(t: TestContext, content: unknown): { stateDir: string; configPath: string } {
  const stateDir = tempDir(t);
  const configPath = join(stateDir, "gatehouse.json");
  writeFileSync(configPath, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return { stateDir, configPath };
}

/** Bytes of a file and the names beside it: what "nothing was written" means to a user. */
export function snapshot(path: string, dir: string): { bytes: string; files: string[] } {
  return { bytes: readFileSync(path, "hex"), files: readdirSync(dir).sort() };
}
