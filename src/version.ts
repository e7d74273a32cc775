/** Gatehouse's release version, read once from package.json. */
// Built-ins by getBuiltinModule, not `import`: an ES import of one evaluates all its lazy parts
// (fs.promises, crypto.webcrypto, ...), a measurable share of a sub-agent's call-back (bench/README.md).
const { readFileSync } = process.getBuiltinModule("node:fs");

function readVersion(): string {
  // The bundles (dist/src/bundle/*.js: the client entries, the CLI), tsc's output (dist/src) and
  // the source tree all sit below the package root, at different depths. The bundles' path first,
  // as they are what runs: a missing candidate throws ENOENT, and building that error was about
  // 6 M instructions of every process that loads this (a sub-agent's call-back, every CLI command;
  // bench/README.md). The package's name guards against a stranger's package.json found above.
  for (const rel of ["../../../package.json", "../../package.json", "../package.json"]) {
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
