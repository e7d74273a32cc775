/**
 * Preload (`node --import`) that appends the URL of every ES module the process loads to the file
 * named by GATEHOUSE_TEST_MODULE_LOG: tests use it to see what a real start loads. With
 * GATEHOUSE_TEST_CJS_LOG also set, the CommonJS modules loaded by exit are written there (one path
 * a line): the ES hooks never see a package required with `createRequire`. With
 * GATEHOUSE_TEST_BUILTIN_LOG, Node's own modules loaded by exit (`internal/...` included) are
 * written there: built-ins taken by `process.getBuiltinModule` pass no hook either.
 */
// node:module by getBuiltinModule: an ES import of it would be in the process before the hooks, so
// a test could not see whether the code under test imports node:module itself (lean-import.test.ts).
const { register, createRequire } = process.getBuiltinModule("node:module");

register(new URL("./module-log-hooks.js", import.meta.url));

const cjsLog = process.env.GATEHOUSE_TEST_CJS_LOG;
if (cjsLog) {
  process.on("exit", () => {
    const cache = (createRequire(import.meta.url)("node:module") as { _cache: Record<string, unknown> })
      ._cache;
    process.getBuiltinModule("node:fs").writeFileSync(cjsLog, Object.keys(cache).join("\n") + "\n");
  });
}

const builtinLog = process.env.GATEHOUSE_TEST_BUILTIN_LOG;
if (builtinLog) {
  process.on("exit", () => {
    const loaded = (process as unknown as { moduleLoadList: string[] }).moduleLoadList
      .filter((m) => m.startsWith("NativeModule "))
      .map((m) => m.slice("NativeModule ".length));
    process.getBuiltinModule("node:fs").writeFileSync(builtinLog, loaded.join("\n") + "\n");
  });
}
