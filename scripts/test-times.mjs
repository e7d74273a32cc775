// A node:test reporter that writes one JSON line per test file, {"file", "seconds"}, when the file's
// process has ended: scripts/dev.mjs prints the slowest files at the end of `npm test`. Plain JS:
// it runs from the checkout, not the build.

/** node --test reports each file as a test named by its path, completed when its process ends. */
export default async function* testTimes(source) {
  for await (const event of source) {
    if (event.type !== "test:complete") continue;
    const { file, name, nesting, details } = event.data;
    if (nesting !== 0 || name !== file || typeof details?.duration_ms !== "number") continue;
    yield `${JSON.stringify({ file, seconds: details.duration_ms / 1000 })}\n`;
  }
}
