/** The schema files in `schemas/` are exactly what the code validates with. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { PUBLISHED_SCHEMAS, schemaFileText } from "../../src/protocol/published-schemas.js";

const root = new URL("../../../schemas/", import.meta.url);

describe("published JSON Schemas", () => {
  for (const [name, schema] of Object.entries(PUBLISHED_SCHEMAS)) {
    it(`schemas/${name} is up to date (npm run schemas regenerates it)`, () => {
      assert.equal(readFileSync(new URL(name, root), "utf8"), schemaFileText(schema));
    });
  }

  it("connect params forbid unknown fields and list the closed client ids", () => {
    const file = JSON.parse(readFileSync(new URL("connect-params.json", root), "utf8")) as {
      additionalProperties: boolean;
      properties: { client: { properties: { id: { anyOf: Array<{ const: string }> } } } };
    };
    assert.equal(file.additionalProperties, false);
    const ids = file.properties.client.properties.id.anyOf.map((s) => s.const);
    assert.ok(ids.includes("cli") && ids.includes("node-host") && ids.includes("openclaw-control-ui"));
  });
});
