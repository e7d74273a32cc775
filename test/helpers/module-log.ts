/**
 * Preload (`node --import`) that appends the URL of every ES module the process loads to the file
 * named by GATEHOUSE_TEST_MODULE_LOG: tests use it to see what a real start loads.
 */
import { register } from "node:module";

register(new URL("./module-log-hooks.js", import.meta.url));
