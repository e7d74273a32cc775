/** Writes the published JSON Schemas to `schemas/` (run `npm run schemas` after changing them). */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PUBLISHED_SCHEMAS, schemaFileText } from "../src/protocol/published-schemas.js";

const dir = fileURLToPath(new URL("../../schemas/", import.meta.url));
mkdirSync(dir, { recursive: true });
for (const [name, schema] of Object.entries(PUBLISHED_SCHEMAS)) {
  writeFileSync(join(dir, name), schemaFileText(schema));
  console.log(`wrote schemas/${name}`);
}
