/** Follows what a long-running child prints, with a wait for a line matching a pattern. */
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/** Lines a long-running process prints (stdout and stderr), with a wait for a pattern. */
export function watchLines(child: ChildProcess) {
  const lines: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (l) => lines.push(l));
  }
  return {
    lines,
    /** The first line at or after index `from` matching `re`; throws after `timeoutMs`. */
    async waitFor(re: RegExp, timeoutMs = 20_000, from = 0): Promise<RegExpExecArray> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (const l of lines.slice(from)) {
          const m = re.exec(l);
          if (m) return m;
        }
        if (Date.now() > deadline) throw new Error(`no line matching ${re} in:\n${lines.join("\n")}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}
