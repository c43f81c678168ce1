/**
 * The load client's HTTP/1.1 framing, kept apart so it can be tested without a
 * socket: request bytes built once per target, and a response scanner that
 * finds where one response ends (Content-Length or chunked) in raw bytes.
 * It reads only the status code and the framing headers — the bench counts
 * answers, it does not look inside them.
 * @module
 */

const CR = 13;
const LF = 10;
const enc = new TextEncoder();

/** A request as bytes, built once and written as-is on every send. */
export function buildRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Uint8Array {
  const bodyBytes = body === undefined ? undefined : enc.encode(body);
  let head = `${method} ${path} HTTP/1.1\r\n`;
  const lower = new Set(Object.keys(headers).map((k) => k.toLowerCase()));
  if (!lower.has("host")) throw new Error("buildRequest: a Host header is required");
  for (const [k, v] of Object.entries(headers)) {
    if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw new Error(`bad header ${k}`);
    head += `${k}: ${v}\r\n`;
  }
  if (bodyBytes && !lower.has("content-length")) head += `content-length: ${bodyBytes.length}\r\n`;
  head += "\r\n";
  const h = enc.encode(head);
  if (!bodyBytes) return h;
  const out = new Uint8Array(h.length + bodyBytes.length);
  out.set(h, 0);
  out.set(bodyBytes, h.length);
  return out;
}

/** Where a complete response ends in a buffer, and its status. */
export interface Framed {
  status: number;
  /** Index just past the last byte of this response. */
  end: number;
  /** True when the server said `connection: close`. */
  close: boolean;
}

/** Index of the first `\r\n\r\n` at or after `from` (the end of it), or -1. */
function headEnd(buf: Uint8Array, from: number, to: number): number {
  for (let i = from; i + 3 < to; i++) {
    if (buf[i] === CR && buf[i + 1] === LF && buf[i + 2] === CR && buf[i + 3] === LF) return i + 4;
  }
  return -1;
}

const latin1 = new TextDecoder("latin1");

/** Lower-cases an ASCII byte. */
const lc = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c);
const CONTENT_LENGTH = [..."content-length:"].map((c) => c.charCodeAt(0));
const TRANSFER_ENCODING = [..."transfer-encoding:"].map((c) => c.charCodeAt(0));
const CONNECTION = [..."connection:"].map((c) => c.charCodeAt(0));

/** True when the header line at `i` starts with `name` (lower-case, with the colon). */
function named(buf: Uint8Array, i: number, end: number, name: number[]): boolean {
  if (i + name.length > end) return false;
  for (let k = 0; k < name.length; k++) if (lc(buf[i + k]) !== name[k]) return false;
  return true;
}

/**
 * The framing headers of a head `buf[start, end)`, scanned byte by byte (no
 * string is built unless a transfer-encoding or connection value must be read).
 */
function scanHead(buf: Uint8Array, start: number, end: number) {
  let length = -1;
  let chunked = false;
  let close = false;
  // Header lines start after each CRLF; the first line is the status line.
  for (let i = start; i < end - 1; i++) {
    if (buf[i] !== CR || buf[i + 1] !== LF) continue;
    const line = i + 2;
    const c = lc(buf[line]);
    if (c === 99 && named(buf, line, end, CONTENT_LENGTH)) {
      let j = line + CONTENT_LENGTH.length;
      while (buf[j] === 32 || buf[j] === 9) j++;
      let n = 0;
      for (; buf[j] >= 48 && buf[j] <= 57; j++) n = n * 10 + buf[j] - 48;
      length = n;
    } else if (c === 116 && named(buf, line, end, TRANSFER_ENCODING)) {
      chunked = /chunked/i.test(latin1.decode(buf.subarray(line, lineEnd(buf, line, end))));
    } else if (c === 99 && named(buf, line, end, CONNECTION)) {
      close = /close/i.test(latin1.decode(buf.subarray(line, lineEnd(buf, line, end))));
    }
  }
  return { length, chunked, close };
}

function lineEnd(buf: Uint8Array, i: number, end: number): number {
  while (i < end - 1 && !(buf[i] === CR && buf[i + 1] === LF)) i++;
  return i;
}

/**
 * The end of the chunked body starting at `pos`, or -1 while incomplete.
 * Chunk extensions are skipped; trailers end at the first empty line.
 */
function chunkedEnd(buf: Uint8Array, pos: number, to: number): number {
  for (;;) {
    let size = 0;
    let i = pos;
    let digits = 0;
    for (; i < to; i++) {
      const c = buf[i];
      const v = c >= 48 && c <= 57
        ? c - 48
        : c >= 97 && c <= 102
        ? c - 87
        : c >= 65 && c <= 70
        ? c - 55
        : -1;
      if (v < 0) break;
      size = size * 16 + v;
      digits++;
    }
    if (i >= to) return -1;
    if (digits === 0) throw new Error("chunked: bad chunk size");
    // Skip extensions up to the line end.
    while (i + 1 < to && !(buf[i] === CR && buf[i + 1] === LF)) i++;
    if (i + 1 >= to) return -1;
    i += 2;
    if (size === 0) {
      // Trailers (usually none), then an empty line.
      for (;;) {
        if (i + 1 >= to) return -1;
        if (buf[i] === CR && buf[i + 1] === LF) return i + 2;
        while (i + 1 < to && !(buf[i] === CR && buf[i + 1] === LF)) i++;
        if (i + 1 >= to) return -1;
        i += 2;
      }
    }
    pos = i + size + 2;
    if (pos > to) return -1;
  }
}

/**
 * Looks for one complete response in `buf[start, to)`. Returns where it ends
 * and its status, or null while more bytes are needed. Throws on bytes that
 * are not an HTTP/1.1 response (the bench then stops: a broken answer is a bug).
 */
export function frameResponse(buf: Uint8Array, start: number, to: number): Framed | null {
  const he = headEnd(buf, start, to);
  if (he < 0) return null;
  // "HTTP/1.1 200 " — the status is bytes 9..11.
  if (buf[start] !== 72 || buf[start + 4] !== 47) throw new Error("not an HTTP response");
  const status = (buf[start + 9] - 48) * 100 + (buf[start + 10] - 48) * 10 + buf[start + 11] - 48;
  const h = scanHead(buf, start, he);
  if (h.length >= 0) {
    const end = he + h.length;
    return end <= to ? { status, end, close: h.close } : null;
  }
  if (h.chunked) {
    const end = chunkedEnd(buf, he, to);
    return end < 0 ? null : { status, end, close: h.close };
  }
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
    return { status, end: he, close: h.close };
  }
  throw new Error("response without Content-Length or chunked encoding");
}
