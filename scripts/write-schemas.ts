/**
 * Writes the published JSON Schemas to `schemas/`, and the client's compiled frame checks (run
 * `npm run schemas` after changing a schema).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { frameCheckFileText } from "../src/protocol/frame-check-schemas.js";
import { PUBLISHED_SCHEMAS, schemaFileText } from "../src/protocol/published-schemas.js";

const dir = fileURLToPath(new URL("../../schemas/", import.meta.url));
mkdirSync(dir, { recursive: true });
for (const [name, schema] of Object.entries(PUBLISHED_SCHEMAS)) {
  writeFileSync(join(dir, name), schemaFileText(schema));
  console.log(`wrote schemas/${name}`);
}

// The client's frame checks: the compiled code, so connecting loads no schema library.
writeFileSync(
  fileURLToPath(new URL("../../src/protocol/frame-check-code.ts", import.meta.url)),
  frameCheckFileText(),
);
console.log("wrote src/protocol/frame-check-code.ts");
