// Running a child under a time limit, and killing it with every process it started: what
// `npm run bench` does with each bench file. Plain JS, like dev.mjs, which imports it.
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

/**
 * Runs `cmd args` with the terminal as its output; resolves with how it ended: "ok", "failed"
 * (a non-zero exit, a signal, or it could not start) or "timed out", when it ran past `limitS`
 * seconds (none when left out) and was killed with everything it started ({@link killTree}).
 */
export function runWithLimit(cmd, args, { cwd, env, limitS, stdio = "inherit" } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio });
    let timedOut = false;
    const timer =
      limitS === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            killTree(child.pid);
          }, limitS * 1000);
    child.once("error", (err) => {
      console.error(`could not run ${cmd}: ${err.message}`);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve(timedOut ? "timed out" : code === 0 ? "ok" : "failed");
    });
  });
}

/**
 * Kills `pid` and every process below it, wherever they moved their process group (the OpenClaw
 * gateway leads its own, a sandbox its own session). Each is stopped as it is found and the tree
 * read again until nothing new appears, so none forks a process unseen; then all are killed.
 */
export function killTree(pid) {
  const stopped = new Set();
  for (let grew = true; grew;) {
    grew = false;
    const children = childrenByParent();
    const queue = [pid];
    while (queue.length > 0) {
      const p = queue.pop();
      if (!stopped.has(p)) {
        signal(p, "SIGSTOP");
        stopped.add(p);
        grew = true;
      }
      queue.push(...(children.get(p) ?? []));
    }
  }
  for (const p of stopped) signal(p, "SIGKILL");
}

/** Every live process's children by parent pid, from Linux's /proc. */
function childrenByParent() {
  const children = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // The fields after the command name (which may hold spaces and parentheses): state, ppid, ...
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(name));
  }
  return children;
}

function signal(pid, name) {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}
