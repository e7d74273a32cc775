/** Permissions of the state dir and the files that hold secrets: directories 0700, files 0600. */
import type { Check, FileFact, Finding } from "./types.js";

const octal = (mode: number) => mode.toString(8).padStart(3, "0");

/** The loosest mode among a file and its siblings. */
function loosest(f: FileFact): number {
  return [f.mode ?? 0, ...(f.siblings ?? []).map((s) => s.mode)].reduce((a, b) => a | b, 0);
}

/** One finding per file or directory looser than it should be; `untouchable` paths get no repair. */
export function checkFilePermissions(
  files: readonly FileFact[],
  untouchable: ReadonlySet<string>,
): Finding[] {
  const out: Finding[] = [];
  for (const f of files) {
    if (f.mode === null) continue;
    const mode = loosest(f);
    const extra = mode & ~f.expected & 0o777;
    if (extra === 0) continue;
    const others = extra & 0o077;
    const writable = (extra & 0o022) !== 0;
    const isDir = f.kind === "dir";
    const id = isDir ? "state-dir-permissions" : "file-permissions";
    // A file with secrets readable by others, or a directory others can write into, is an error.
    const severity = isDir ? (writable ? "error" : "warn") : others !== 0 ? "error" : "warn";
    const who = writable ? "writable" : "readable";
    const siblings = (f.siblings ?? []).map((s) => s.path);
    const finding: Finding = {
      id,
      severity,
      subject: f.path,
      message: `${f.path} has mode ${octal(mode)}, so it is ${who} by other users; it holds ${f.holds}.`,
      fix: `chmod ${octal(f.expected)} ${[f.path, ...siblings].join(" ")}`,
    };
    if (!untouchable.has(f.path)) {
      finding.repair = {
        kind: "chmod",
        path: f.path,
        mode: f.expected,
        ...(siblings.length ? { siblings } : {}),
      };
    } else {
      finding.fix += " (not done by --fix: the file is damaged or invalid; repair it first)";
    }
    out.push(finding);
  }
  return out;
}

export const permissionsCheck: Check = {
  id: "permissions",
  title: "state dir and secret files are private (dirs 0700, files 0600)",
  run(facts) {
    const untouchable = new Set<string>();
    if (!facts.config.ok) untouchable.add(facts.config.path);
    if (
      facts.store.state === "unusable" ||
      (facts.store.state === "ok" && !integrityOk(facts.store.integrity))
    ) {
      untouchable.add(facts.store.path);
    }
    return checkFilePermissions(facts.files, untouchable);
  },
};

/** `PRAGMA integrity_check` said "ok" and nothing else. */
export function integrityOk(lines: readonly string[]): boolean {
  return lines.length === 1 && lines[0] === "ok";
}
