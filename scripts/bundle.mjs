#!/usr/bin/env node
// Bundles the client's public entries (`gatehouse-gateway/client`, `gatehouse-gateway/client/env`)
// from tsc's output into dist/src/bundle/: a sub-agent that calls back loads two files instead of
// about thirty modules, and Node's ES loader spends per module (resolve, read, compile) about as
// much as the call-back's own work (bench/README.md, "The client as one file"). Run after tsc
// (`npm run build`, `prepack`, and scripts/dev.mjs do); tsc alone leaves the bundle stale, which
// test/library/bundle.test.ts catches by the input digests written beside it.
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Beside tsc's output, one level under dist/src: a bundle's `import.meta.url` resolves `../x` as the module did. */
const BUNDLE_DIR = join(root, "dist", "src", "bundle");
const ENTRIES = ["client/index.js", "client/env.js"];

rmSync(BUNDLE_DIR, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: ENTRIES.map((e) => join(root, "dist", "src", e)),
  outdir: BUNDLE_DIR,
  entryNames: "[name]",
  chunkNames: "shared-[hash]",
  bundle: true,
  // One shared chunk: both entries give the same classes (a GatewayClientError from either is
  // `instanceof` the other's), and env loads nothing only index needs.
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  metafile: true,
  logLevel: "warning",
  legalComments: "none",
});

// What the bundle was built from: tsc's files and their digests (test/library/bundle.test.ts).
const inputs = Object.keys(result.metafile.inputs)
  .sort()
  .map((p) => {
    const file = join(root, p);
    return {
      file: relative(root, file),
      sha256: createHash("sha256").update(readFileSync(file)).digest("hex"),
    };
  });
writeFileSync(join(BUNDLE_DIR, "inputs.json"), JSON.stringify({ entries: ENTRIES, inputs }, null, 1) + "\n");
