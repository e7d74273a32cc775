/** `gatehouse call <method>`: one RPC, its result printed as JSON. */
import { withMethodClient, type CommonOptions } from "../connect.js";
import { CliError, EXIT, type Reporter } from "../output.js";

export interface CallOptions extends CommonOptions {
  params?: string;
}

/** Parses `--params`; it must be JSON (an object, usually). */
export function parseParams(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(
      "INVALID_FLAG",
      `--params: not valid JSON (${err instanceof SyntaxError ? err.message : "parse error"})`,
      EXIT.usage,
    );
  }
}

/** Asks only for the scope the method needs (least privilege), calls it, prints the payload. */
export async function call(method: string, opts: CallOptions, out: Reporter): Promise<number> {
  const params = parseParams(opts.params);
  return withMethodClient(opts, method, async (client) => {
    const payload = await client.request(method, params);
    out.result(payload, () => JSON.stringify(payload, null, 2));
    return EXIT.ok;
  });
}
