/**
 * Pure IP address helpers (no `node:net`, so the policy stays free of I/O modules): parsing,
 * canonical form with IPv4-mapped IPv6 folded to IPv4, loopback tests and CIDR matching.
 */

export interface ParsedIp {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: number[];
}

const DOT = 46;
const DIGIT_0 = 48;
const DIGIT_9 = 57;

/**
 * Four dot-separated decimal parts of 1–3 ASCII digits, each ≤ 255, without leading zeros (which
 * some parsers read as octal). One pass over the characters: every upgrade parses its peer's
 * address several times.
 */
function parseIpv4(text: string): number[] | null {
  const out: number[] = [];
  let n = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    // The end of the text closes the last part as a dot would.
    const c = i < text.length ? text.charCodeAt(i) : DOT;
    if (c === DOT) {
      if (digits === 0 || out.length === 4) return null;
      out.push(n);
      n = 0;
      digits = 0;
    } else if (c >= DIGIT_0 && c <= DIGIT_9) {
      if ((digits === 1 && n === 0) || digits === 3) return null;
      n = n * 10 + (c - DIGIT_0);
      digits++;
      if (n > 255) return null;
    } else {
      return null;
    }
  }
  return out.length === 4 ? out : null;
}

function parseIpv6(text: string): number[] | null {
  let head = text;
  let tailV4: number[] | null = null;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".")) {
    tailV4 = parseIpv4(text.slice(lastColon + 1));
    if (!tailV4) return null;
    head = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const toGroups = (s: string) => (s === "" ? [] : s.split(":"));
  const left = toGroups(halves[0] ?? "");
  const right = halves.length === 2 ? toGroups(halves[1] ?? "") : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...right];
  const bytes: number[] = [];
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const n = parseInt(g, 16);
    bytes.push(n >> 8, n & 0xff);
  }
  if (tailV4) bytes.splice(12, 4, ...tailV4);
  return bytes;
}

/** Parses an IPv4 or IPv6 literal (brackets and zone ids allowed); IPv4-mapped IPv6 becomes IPv4. */
export function parseIp(input: string): ParsedIp | null {
  let text = input.trim();
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  const zone = text.indexOf("%");
  // Zone ids belong to IPv6 link-local addresses only.
  if (zone >= 0) {
    if (!text.includes(":")) return null;
    text = text.slice(0, zone);
  }
  const v4 = parseIpv4(text);
  if (v4) return { family: 4, bytes: v4 };
  if (!text.includes(":")) return null;
  const v6 = parseIpv6(text);
  if (!v6) return null;
  const mapped = v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? { family: 4, bytes: v6.slice(12) } : { family: 6, bytes: v6 };
}

/** One spelling per address: dotted IPv4 (mapped IPv6 folded) or compressed lowercase IPv6. */
export function canonicalIp(input: string): string | null {
  const ip = parseIp(input);
  if (!ip) return null;
  if (ip.family === 4) return ip.bytes.join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((ip.bytes[i] ?? 0) << 8) | (ip.bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

/** 127.0.0.0/8, ::1, and IPv4-mapped 127.x. */
export function isLoopbackIp(input: string): boolean {
  const ip = parseIp(input);
  if (!ip) return false;
  if (ip.family === 4) return ip.bytes[0] === 127;
  return ip.bytes.slice(0, 15).every((b) => b === 0) && ip.bytes[15] === 1;
}

/** True when `address` lies in `range` (an IP literal or `ip/prefix`); false for malformed input. */
export function ipInRange(address: string, range: string): boolean {
  const ip = parseIp(address);
  const parts = range.trim().split("/");
  if (parts.length > 2) return false;
  const [base = "", prefixText] = parts;
  const net = parseIp(base);
  if (!ip || !net || ip.family !== net.family) return false;
  const bits = ip.family === 4 ? 32 : 128;
  // Strict digits only: "10.0.0.0/" must not silently become /0 and trust everyone.
  if (prefixText !== undefined && !/^(0|[1-9]\d{0,2})$/.test(prefixText)) return false;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return false;
  for (let i = 0; i < prefix; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if (((ip.bytes[byte] ?? 0) & mask) !== ((net.bytes[byte] ?? 0) & mask)) return false;
  }
  return true;
}

/** True when `address` is in any of `ranges`. */
export function ipInAnyRange(address: string, ranges: readonly string[]): boolean {
  return ranges.some((r) => ipInRange(address, r));
}
