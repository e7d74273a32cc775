/**
 * Reads a WebSocket upgrade request from the first bytes a connection sent, strictly: only the
 * plainest form of the request is read here (one HTTP/1.1 GET, printable ASCII, every header
 * once, no body). Anything else gives null and is left to Node's HTTP parser, which then judges it
 * as it always did. So a request read here is one Node would read to the same method, target and
 * headers (test/websocket/request-head.test.ts compares the two on generated requests).
 */
import { UPGRADE_TOKEN } from "./upgrade-request.js";

/** The upgrade request as read: Node's `IncomingMessage` names for the same facts. */
export interface UpgradeHead {
  method: "GET";
  url: string;
  /** Header names in lower case, values with surrounding spaces and tabs removed. */
  headers: Readonly<Record<string, string>>;
}

/** A head read, and what the client sent after it (its first frames, if any). */
export interface ReadHead {
  request: UpgradeHead;
  rest: Buffer;
}

/** Node's default limit on a request's head (request line and headers), in bytes. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** More headers than a client's upgrade has (about ten); Node drops those past 2,000. */
export const MAX_HEADERS = 64;

const END = Buffer.from("\r\n\r\n", "latin1");
/** Only printable ASCII, tab and the line ends: no obs-text, no control characters. */
const PLAIN = /^[\x20-\x7e\t\r\n]*$/;
/** The target in the characters a URI's path and query use; others are Node's to judge. */
const REQUEST_LINE = /^GET ([A-Za-z0-9\-._~!$&'()*+,;=:@/?%]+) HTTP\/1\.1$/;
/**
 * `name: value`; the name a token, nothing between it and the colon. The value's spaces are
 * trimmed apart: a lazy group before trailing spaces would backtrack over a long run of them
 * (quadratic in the line, a quarter of a second for a 16 KB head).
 */
const HEADER = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):(.*)$/;

/**
 * The upgrade request at the start of `chunk`, or null when the chunk holds anything else: another
 * kind of request, an incomplete head, or a form only Node's parser should judge.
 */
export function readUpgradeHead(chunk: Buffer): ReadHead | null {
  const end = chunk.indexOf(END);
  if (end < 0 || end + END.length > MAX_HEAD_BYTES) return null;
  const text = chunk.toString("latin1", 0, end);
  if (!PLAIN.test(text)) return null;
  const lines = text.split("\r\n");
  if (lines.length - 1 > MAX_HEADERS) return null;
  const requestLine = REQUEST_LINE.exec(lines[0]!);
  if (!requestLine) return null;
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    // A bare CR or LF, or a folded line (starting with a space or tab), is Node's to judge.
    if (line.includes("\r") || line.includes("\n")) return null;
    const header = HEADER.exec(line);
    if (!header) return null;
    const name = header[1]!.toLowerCase();
    // Node keeps the first of some repeated headers and joins others: none of that here.
    if (name in headers) return null;
    // Only spaces and tabs can surround it (PLAIN above), so trim() removes OWS and nothing else.
    headers[name] = header[2]!.trim();
  }
  // A request Node would not hand over as an upgrade, or one with a body, goes to Node.
  if (headers["content-length"] !== undefined || headers["transfer-encoding"] !== undefined) return null;
  // HTTP/1.1 requires Host; a request without one is unusual, so Node's parser judges it.
  if (headers.host === undefined) return null;
  if (headers.upgrade?.toLowerCase() !== "websocket") return null;
  if (headers.connection === undefined || !UPGRADE_TOKEN.test(headers.connection)) return null;
  return {
    request: { method: "GET", url: requestLine[1]!, headers },
    rest: chunk.subarray(end + END.length),
  };
}
