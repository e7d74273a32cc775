import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { resolveStateDir, statePaths } from "../../src/config/index.js";

const home = "/home/owner";

test("state dir defaults to ~/.gatehouse", () => {
  assert.equal(resolveStateDir({ env: {}, homedir: home }), "/home/owner/.gatehouse");
});

test("GATEHOUSE_STATE_DIR overrides the default, --state-dir overrides the variable", () => {
  const env = { GATEHOUSE_STATE_DIR: "/srv/gh-env" };
  assert.equal(resolveStateDir({ env, homedir: home }), "/srv/gh-env");
  assert.equal(resolveStateDir({ flag: "/srv/gh-flag", env, homedir: home }), "/srv/gh-flag");
});

test("empty values count as unset, ~ is expanded, relative paths become absolute", () => {
  assert.equal(
    resolveStateDir({ flag: "", env: { GATEHOUSE_STATE_DIR: "" }, homedir: home }),
    "/home/owner/.gatehouse",
  );
  assert.equal(resolveStateDir({ env: { GATEHOUSE_STATE_DIR: "~/gh" }, homedir: home }), "/home/owner/gh");
  assert.equal(resolveStateDir({ flag: "rel/state", env: {}, homedir: home }), resolve("rel/state"));
});

test("paths inside the state dir", () => {
  assert.deepEqual(statePaths("/s"), {
    stateDir: "/s",
    configPath: join("/s", "gatehouse.json"),
    identityDir: join("/s", "identity"),
    stateDbDir: join("/s", "state"),
  });
});
