/** Gatehouse's release version, read once from package.json. */
import { readFileSync } from "node:fs";

function readVersion(): string {
  // Both the source tree and the build (dist/src) sit below the package root.
  for (const rel of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "gatehouse-gateway" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return "0.0.0";
}

export const GATEHOUSE_VERSION = readVersion();
