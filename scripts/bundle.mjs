#!/usr/bin/env node
// Bundles tsc's output into dist/src/bundle/, in two builds:
// - the client's public entries (`gatehouse-gateway/client`, `gatehouse-gateway/client/env`): a
//   sub-agent that calls back loads two files instead of about thirty modules, and Node's ES
//   loader spends per module (resolve, read, compile) about as much as the call-back's own work
//   (bench/README.md, "The client as one file");
// - the CLI (`cli/cli.js`, which `cli/main.js` runs when it is here): every command and the gateway
//   it starts load a few chunks instead of about 180 modules, which costs start time, `health`
//   time and resident memory (bench/README.md, "The CLI as a bundle").
// Run after tsc (`npm run build`, `prepack`, and scripts/dev.mjs do); tsc alone leaves the bundles
// stale, which test/library/bundle.test.ts catches by the input digests written beside them.
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Beside tsc's output, one level under dist/src: a bundle's `import.meta.url` resolves `../x` as the module did. */
const BUNDLE_DIR = join(root, "dist", "src", "bundle");
const ENTRIES = ["client/index.js", "client/env.js"];
const CLI_ENTRIES = ["cli/cli.js"];

/** What both builds share: ES modules for Node 20, every lazy `import()` kept lazy by splitting. */
const COMMON = {
  absWorkingDir: root,
  outdir: BUNDLE_DIR,
  entryNames: "[name]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  metafile: true,
  logLevel: "warning",
  legalComments: "none",
};

/** The namespace of commander's built-ins: modules with no file. */
const BUILTIN = "commander-builtin";

/**
 * The CLI build's packages stay outside but for commander, which every command loads: as a package
 * it costs a CommonJS load of seven files, the ES loader's scan of their exports and, through
 * `node:child_process`, `dgram` and `net`'s socket list: 15–18 ms of every command's start ("The
 * CLI's own start" in bench/README.md). Its `require`s of Node's built-ins become
 * `process.getBuiltinModule` (an ES bundle has no `require`), and `node:child_process` loads at its
 * first use: commander uses it only for executable subcommands, which Gatehouse has none of.
 * commander stays a dependency (tsc's modules import it, and its licence is installed beside the
 * bundle with it).
 */
function commanderInside() {
  const IN_COMMANDER = /[\\/]node_modules[\\/]commander[\\/]/;
  return {
    name: "commander-inside",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path === "commander") return undefined; // resolved and bundled by esbuild
        if (args.path.startsWith("node:") && IN_COMMANDER.test(args.importer))
          return { path: args.path, namespace: BUILTIN };
        // Other packages, and the built-ins our modules import: loaded where the code loads them.
        return { path: args.path, external: true };
      });
      b.onLoad({ filter: /.*/, namespace: BUILTIN }, (args) => ({
        loader: "js",
        contents:
          args.path === "node:child_process"
            ? `let m;\nmodule.exports = new Proxy({}, { get: (_, k) => (m ??= process.getBuiltinModule("node:child_process"))[k] });\n`
            : `module.exports = process.getBuiltinModule(${JSON.stringify(args.path)});\n`,
      }));
    },
  };
}
rmSync(BUNDLE_DIR, { recursive: true, force: true });
const client = await build({
  ...COMMON,
  entryPoints: ENTRIES.map((e) => join(root, "dist", "src", e)),
  // One shared chunk: both entries give the same classes (a GatewayClientError from either is
  // `instanceof` the other's), and env loads nothing only index needs.
  chunkNames: "shared-[hash]",
});
// A build of its own, so the client's two files stay all a sub-agent loads. Packages stay outside
// (installed beside it, loaded where the code loads them: better-sqlite3, ws, qrcode, croner).
const cli = await build({
  ...COMMON,
  entryPoints: CLI_ENTRIES.map((e) => join(root, "dist", "src", e)),
  chunkNames: "cli-[hash]",
  plugins: [commanderInside()],
  minifyWhitespace: true,
  minifySyntax: true,
});

// The bundle's folder is its own package scope: for every module it loads, Node's ES loader looks
// for the nearest package.json to learn the module's format, from the module's folder up, building
// URLs and paths at each step. Here the first step answers (bench/README.md, "The bundle's own
// package scope"). Only `type`: a `name` or `exports` here would capture the package's own name.
writeFileSync(join(BUNDLE_DIR, "package.json"), JSON.stringify({ type: "module" }) + "\n");

// What the bundle was built from: tsc's files and their digests (test/library/bundle.test.ts).
const inputs = [...new Set([...Object.keys(client.metafile.inputs), ...Object.keys(cli.metafile.inputs)])]
  .filter((p) => !p.startsWith(`${BUILTIN}:`))
  .sort()
  .map((p) => {
    const file = join(root, p);
    return {
      file: relative(root, file),
      sha256: createHash("sha256").update(readFileSync(file)).digest("hex"),
    };
  });
writeFileSync(
  join(BUNDLE_DIR, "inputs.json"),
  JSON.stringify({ entries: [...ENTRIES, ...CLI_ENTRIES], inputs }, null, 1) + "\n",
);
