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

/** Writes `lines()` to `file` (one a line) when the process exits, if the variable named a file. */
function writeAtExit(file: string | undefined, lines: () => string[]): void {
  if (!file) return;
  process.on("exit", () =>
    process.getBuiltinModule("node:fs").writeFileSync(file, lines().join("\n") + "\n"),
  );
}

writeAtExit(process.env.GATEHOUSE_TEST_CJS_LOG, () =>
  Object.keys((createRequire(import.meta.url)("node:module") as { _cache: Record<string, unknown> })._cache),
);
writeAtExit(process.env.GATEHOUSE_TEST_BUILTIN_LOG, () =>
  (process as unknown as { moduleLoadList: string[] }).moduleLoadList
    .filter((m) => m.startsWith("NativeModule "))
    .map((m) => m.slice("NativeModule ".length)),
);
