/** The last N bytes of a stream: what `sessions.get` shows of a process's output. */

/** Default bound per stream: 64 KiB. */
export const DEFAULT_OUTPUT_TAIL_BYTES = 64 * 1024;

/** A byte ring: appends are O(chunk), memory never exceeds the bound plus one chunk. */
export class OutputTail {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #dropped = 0;

  constructor(limit: number = DEFAULT_OUTPUT_TAIL_BYTES) {
    this.#limit = limit;
  }

  /** Bytes dropped from the front so far. */
  get droppedBytes(): number {
    return this.#dropped;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (chunk.length >= this.#limit) {
      this.#dropped += this.#size + chunk.length - this.#limit;
      this.#chunks = [Buffer.from(chunk.subarray(chunk.length - this.#limit))];
      this.#size = this.#limit;
      return;
    }
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#size > this.#limit) {
      const first = this.#chunks[0]!;
      const excess = this.#size - this.#limit;
      if (first.length <= excess) {
        this.#chunks.shift();
        this.#size -= first.length;
        this.#dropped += first.length;
      } else {
        this.#chunks[0] = first.subarray(excess);
        this.#size -= excess;
        this.#dropped += excess;
      }
    }
  }

  /** The tail as UTF-8 text; a character cut in half at the front is skipped. */
  text(): string {
    let buf = Buffer.concat(this.#chunks, this.#size);
    if (this.#dropped > 0) {
      let i = 0;
      while (i < buf.length && i < 4 && (buf[i]! & 0xc0) === 0x80) i++;
      buf = buf.subarray(i);
    }
    return buf.toString("utf8");
  }
}
