/**
 * Where the `gatehouse` command's entry point is, for the processes the CLI starts itself (`gateway
 * start`'s daemon, the service unit). This module sits one folder under dist/src, as the CLI bundle
 * (dist/src/bundle/) does, so `../cli/main.js` names the entry from either place.
 */
import { fileURLToPath } from "node:url";

/** The CLI entry point this build runs (`dist/src/cli/main.js`). */
export const CLI_PATH = fileURLToPath(new URL("../cli/main.js", import.meta.url));
