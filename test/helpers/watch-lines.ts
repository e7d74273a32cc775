/** Follows what a long-running child prints, with a wait for a line matching a pattern. */
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/** Lines a long-running process prints (stdout and stderr), with a wait for a pattern. */
export function watchLines(child: ChildProcess) {
  const lines: string[] = [];
  // Each waiter looks at every line as it arrives (it used to look every 100 ms).
  const waiters = new Set<(line: string) => void>();
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (l) => {
      lines.push(l);
      for (const w of [...waiters]) w(l);
    });
  }
  return {
    lines,
    /** The first line at or after index `from` matching `re`; throws after `timeoutMs`. */
    waitFor(re: RegExp, timeoutMs = 20_000, from = 0): Promise<RegExpExecArray> {
      for (const l of lines.slice(from)) {
        const m = re.exec(l);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const waiter = (l: string) => {
          const m = re.exec(l);
          if (!m) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          resolve(m);
        };
        // A hang detector, not a timing assertion: a line that never comes fails with the output.
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no line matching ${re} in:\n${lines.join("\n")}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
  };
}
