/** Module loader hooks for module-log.ts: each loaded URL, one per line. */
import { appendFileSync } from "node:fs";

type NextLoad = (url: string, context: unknown) => Promise<unknown>;

/** Records `url`, then loads it as Node would. */
export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<unknown> {
  const file = process.env.GATEHOUSE_TEST_MODULE_LOG;
  if (file) appendFileSync(file, `${url}\n`);
  return nextLoad(url, context);
}
