/**
 * Writes the published JSON Schemas to `schemas/`, and the compiled checks of frames and params (run
 * `npm run schemas` after changing a schema).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CHECK_CODE_FILES, checkCodeFileText } from "../src/protocol/check-schemas.js";
import { PUBLISHED_SCHEMAS, schemaFileText } from "../src/protocol/published-schemas.js";

const dir = fileURLToPath(new URL("../../schemas/", import.meta.url));
mkdirSync(dir, { recursive: true });
for (const [name, schema] of Object.entries(PUBLISHED_SCHEMAS)) {
  writeFileSync(join(dir, name), schemaFileText(schema));
  console.log(`wrote schemas/${name}`);
}

// The compiled checks of frames and params, so starting and connecting load no schema library; the
// client's in a file of their own, so importing the client loads only the checks it runs.
for (const file of CHECK_CODE_FILES) {
  writeFileSync(
    fileURLToPath(new URL(`../../src/protocol/${file.file}`, import.meta.url)),
    checkCodeFileText(file),
  );
  console.log(`wrote src/protocol/${file.file}`);
}
