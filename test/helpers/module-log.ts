/**
 * Preload (`node --import`) that appends the URL of every ES module the process loads to the file
 * named by GATEHOUSE_TEST_MODULE_LOG: tests use it to see what a real start loads.
 */
// node:module by getBuiltinModule: an ES import of it would be in the process before the hooks, so
// a test could not see whether the code under test imports node:module itself (lean-import.test.ts).
const { register } = process.getBuiltinModule("node:module");

register(new URL("./module-log-hooks.js", import.meta.url));
