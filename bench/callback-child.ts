/**
 * The sub-agent child both call-back benches start: load `gatehouse-gateway/client/env`, connect back with the
 * runtime token in its environment, call `health`, exit 0 only if both worked; and bare `node`
 * started the same way, running nothing, to subtract.
 */

/**
 * `gatehouse-gateway/client/env` as the package exports it (the bundle `npm run build` writes),
 * resolved by the package's own name: what a sub-agent's `import` loads.
 */
const CLIENT_URL = import.meta.resolve("gatehouse-gateway/client/env");

const CHILD_CODE = `import { connectFromEnv } from ${JSON.stringify(CLIENT_URL)};
const c = await connectFromEnv();
const h = await c.request("health");
await c.close();
process.exit(h.ok ? 0 : 1);`;

/** `node` arguments of the call-back child. */
export const CHILD_ARGS: readonly string[] = ["--input-type=module", "-e", CHILD_CODE];

/** `node` arguments of a process that starts and exits, started the same way. */
export const EMPTY_ARGS: readonly string[] = ["--input-type=module", "-e", ""];
