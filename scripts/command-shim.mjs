// Puts the `gatehouse` command on PATH for the README's set-up (`npm start`, `npm test`): a small
// shell script that runs this checkout's build, written to the first suitable directory on PATH —
// ~/.local/bin or ~/bin when they are on PATH, /usr/local/bin for root, or wherever an earlier
// set-up put one. It never overwrites a `gatehouse` it did not write and never fails the set-up:
// when it cannot, it prints how. Plain JS so it runs before anything is built.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** The first line after the shebang: how a shim of ours is recognised. */
const MARKER = "# gatehouse command shim, written by scripts/dev.mjs";
const COMMAND = "gatehouse";

/** The shim's text: runs `main` with the Node that ran the set-up, or `node` from PATH if that is gone. */
export function shimText(root, execPath) {
  const main = join(root, "dist", "src", "cli", "main.js");
  return [
    "#!/bin/sh",
    MARKER,
    `# checkout: ${root}`,
    `MAIN=${shellQuote(main)}`,
    `NODE=${shellQuote(execPath)}`,
    '[ -x "$NODE" ] || NODE=node',
    'if [ ! -f "$MAIN" ]; then',
    `  echo "gatehouse: $MAIN is missing; run npm start in a Gatehouse checkout, or: npm install -g gatehouse-gateway" >&2`,
    "  exit 127",
    "fi",
    'exec "$NODE" "$MAIN" "$@"',
    "",
  ].join("\n");
}

function shellQuote(s) {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function isOurShim(path) {
  try {
    return readFileSync(path, "utf8").split("\n", 3)[1] === MARKER;
  } catch {
    return false;
  }
}

function sameFile(a, b) {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

function isFile(path) {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Writes or refreshes the shim. Returns `{ ok, path?, lines }`: `lines` are what to tell the user.
 * `env.GATEHOUSE_NO_COMMAND_SHIM=1` skips it.
 */
export function installCommandShim({
  root,
  env = process.env,
  uid = process.getuid?.() ?? -1,
  execPath = process.execPath,
  systemBinDir = "/usr/local/bin",
}) {
  const home = env.HOME || homedir();
  const text = shimText(resolve(root), execPath);
  const howTo = [
    "to put it on PATH yourself: npm link (as root, or with a user-writable npm prefix),",
    `or add ~/.local/bin to PATH (export PATH="$HOME/.local/bin:$PATH") and run this set-up again;`,
    `meanwhile run it as: npx gatehouse ... (inside the checkout) or node ${join(root, "dist", "src", "cli", "main.js")} ...`,
  ];
  if (env.GATEHOUSE_NO_COMMAND_SHIM === "1") {
    return { ok: false, lines: ["`gatehouse` not put on PATH (GATEHOUSE_NO_COMMAND_SHIM=1)"] };
  }
  const eligible = new Set([join(home, ".local", "bin"), join(home, "bin")]);
  if (uid === 0) eligible.add(systemBinDir);
  const dirs = (env.PATH ?? "").split(":").filter((d) => d !== "" && d.startsWith("/"));
  for (const dir of dirs) {
    const target = join(dir, COMMAND);
    if (isFile(target) && sameFile(target, join(root, "dist", "src", "cli", "main.js"))) {
      return {
        ok: true,
        path: target,
        lines: [`\`gatehouse\` on PATH: ${target} (npm link) runs this checkout's build`],
      };
    }
    if (isFile(target) && !isOurShim(target)) {
      return {
        ok: false,
        lines: [
          `\`gatehouse\` on PATH is ${target}, which this set-up did not write (another install?); left as it is`,
          ...howTo,
        ],
      };
    }
    if (!isFile(target) && !eligible.has(dir)) continue;
    try {
      if (!isFile(target) || readFileSync(target, "utf8") !== text) {
        mkdirSync(dir, { recursive: true });
        // Renamed into place, so a concurrent `gatehouse` never runs half a script.
        const tmp = `${target}.${process.pid}.tmp`;
        writeFileSync(tmp, text, { mode: 0o755 });
        chmodSync(tmp, 0o755);
        renameSync(tmp, target);
      }
      return {
        ok: true,
        path: target,
        lines: [`\`gatehouse\` on PATH: ${target} runs this checkout's build`],
      };
    } catch (err) {
      if (!existsSync(target) || !isOurShim(target)) continue;
      return { ok: false, lines: [`cannot update ${target}: ${err.code ?? err.message}`, ...howTo] };
    }
  }
  return {
    ok: false,
    lines: ["`gatehouse` is not on PATH: no directory on PATH this set-up may write to", ...howTo],
  };
}
