/**
 * HTTP/1.1 framing of one client connection (`http_pool.ts` keeps and reuses them): the
 * connection with its read buffer, reading one answer — head, then a body framed by
 * `Content-Length`, `chunked` or the end of the connection — and the errors of both, whose
 * messages never name the peer.
 * @module
 */
import { concatBytes } from "../../shared/bytes.ts";

/** Why a request failed; never carries the peer's address. */
export type HttpPoolErrorKind =
  | "connect" // the connection could not be opened
  | "reset" // the connection broke before a complete answer
  | "timeout" // the request's deadline passed
  | "aborted" // the caller's signal fired
  | "too_large" // the answer is bigger than maxBytes
  | "malformed" // not an HTTP/1.x answer
  | "busy"; // too many requests waiting for a connection

/** A failed request; `cause` is the platform error, kept for matching only. */
export class HttpPoolError extends Error {
  readonly kind: HttpPoolErrorKind;
  constructor(kind: HttpPoolErrorKind, cause?: unknown) {
    super(`HTTP request failed: ${kind}`, { cause });
    this.kind = kind;
    this.name = "HttpPoolError";
  }
}

const EMPTY = new Uint8Array(0);
const HEAD_MAX = 64 * 1024;
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();
const NON_ASCII = /[\u0080-\uffff]/;

/** A response's header fields: what an answer's reader looks up by lower-case name. */
export interface HeaderFields extends Iterable<[string, string]> {
  /** The value (repeated fields joined with ", "), or undefined. `name` is lower-case. */
  get(name: string): string | undefined;
}

/** One whole answer, and whether its connection may carry the next request. */
export interface Answer {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: HeaderFields;
  body: Uint8Array;
  keep: boolean;
}

/** A response's status line and headers. */
interface Head {
  status: number;
  http11: boolean;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: HeaderFields;
}

/**
 * The header fields of a well-formed head, read when asked for: a proxied answer needs three
 * or four of them, so no string is made for the others (issue 15). `lines` holds, per header
 * line, the offsets of its name, colon and end in `head`.
 */
class LazyFields implements HeaderFields {
  readonly #head: string;
  readonly #lines: number[];

  constructor(head: string, lines: number[]) {
    this.#head = head;
    this.#lines = lines;
  }

  get(name: string): string | undefined {
    const h = this.#head, lines = this.#lines;
    let out: string | undefined;
    for (let i = 0; i < lines.length; i += 3) {
      const start = lines[i], colon = lines[i + 1];
      if (colon - start !== name.length || !sameName(h, start, name)) continue;
      let vs = colon + 1, ve = lines[i + 2];
      while (vs < ve && isBlank(h.charCodeAt(vs))) vs++;
      while (ve > vs && isBlank(h.charCodeAt(ve - 1))) ve--;
      const v = h.slice(vs, ve);
      out = out === undefined ? v : `${out}, ${v}`;
    }
    return out;
  }

  [Symbol.iterator](): Iterator<[string, string]> {
    const first = this.#lines.length ? this.#lines[0] - 2 : this.#head.length;
    return eagerFields(this.#head, first)[Symbol.iterator]();
  }
}

/** `h` at `at` spells the lower-case `name`, in any case. */
function sameName(h: string, at: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    let c = h.charCodeAt(at + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== name.charCodeAt(i)) return false;
  }
  return true;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/** Every field of the header lines from `from` on, in a Map (any spacing the form allows). */
function eagerFields(h: string, from: number): Map<string, string> {
  const headers = new Map<string, string>();
  for (let pos = h.indexOf("\r\n", from); pos >= 0;) {
    const start = pos + 2;
    let end = h.indexOf("\r\n", start);
    if (end < 0) end = h.length;
    const colon = h.indexOf(":", start);
    const name = h.slice(start, colon).trim().toLowerCase();
    let vs = colon + 1, ve = end;
    while (vs < ve && isBlank(h.charCodeAt(vs))) vs++;
    while (ve > vs && isBlank(h.charCodeAt(ve - 1))) ve--;
    const value = h.slice(vs, ve);
    const had = headers.get(name);
    headers.set(name, had === undefined ? value : `${had}, ${value}`);
    pos = end < h.length ? end : -1;
  }
  return headers;
}

/**
 * Parses a response head (status line and header lines, without the final CRLFCRLF) given as
 * a latin1 string. Every line is checked for its colon; values are read on demand unless a
 * line has blanks around its name (then all at once, the same way).
 */
export function parseHead(h: string): Head {
  if (!h.startsWith("HTTP/1.") || h.length < 12) throw new HttpPoolError("malformed");
  const minor = h.charCodeAt(7);
  const d0 = h.charCodeAt(9) - 48, d1 = h.charCodeAt(10) - 48, d2 = h.charCodeAt(11) - 48;
  const next = h.length > 12 ? h.charCodeAt(12) : 32;
  if (
    (minor !== 48 && minor !== 49) || h.charCodeAt(8) !== 32 || d0 < 0 || d0 > 9 || d1 < 0 ||
    d1 > 9 || d2 < 0 || d2 > 9 || (next !== 32 && next !== 13)
  ) throw new HttpPoolError("malformed");
  const first = h.indexOf("\r\n", 12);
  const lines: number[] = [];
  let plain = true;
  for (let pos = first; pos >= 0;) {
    const start = pos + 2;
    let end = h.indexOf("\r\n", start);
    if (end < 0) end = h.length;
    const colon = h.indexOf(":", start);
    if (colon <= start || colon >= end) throw new HttpPoolError("malformed");
    if (isBlank(h.charCodeAt(start)) || isBlank(h.charCodeAt(colon - 1))) plain = false;
    lines.push(start, colon, end);
    pos = end < h.length ? end : -1;
  }
  return {
    status: d0 * 100 + d1 * 10 + d2,
    http11: minor === 49,
    headers: plain ? new LazyFields(h, lines) : eagerFields(h, first < 0 ? h.length : first),
  };
}

/** Bytes as a latin1 string (the usual all-ASCII head through the faster UTF-8 decoder). */
function text(b: Uint8Array): string {
  const s = utf8.decode(b);
  return NON_ASCII.test(s) ? latin1.decode(b) : s;
}

/** One keep-alive connection with its read buffer. */
export class Conn {
  readonly raw: Deno.Conn;
  buf = new Uint8Array(16 * 1024);
  /** The request being written (reused: one request at a time per connection). */
  out = new Uint8Array(2048);
  /** Unconsumed bytes are buf[start, end). */
  start = 0;
  end = 0;
  idle = false;
  dead = false;
  idleSince = 0;
  /** Requests served; > 0 means the next one runs on a reused connection. */
  uses = 0;
  /** A read started when the connection went idle, to notice a close by the server. */
  pending: Promise<number | null> | null = null;
  /** Called when the idle read ends while still idle: the peer closed or spoke unasked. */
  readonly #retire: (c: Conn) => void;

  constructor(raw: Deno.Conn, retire: (c: Conn) => void) {
    this.raw = raw;
    this.#retire = retire;
  }

  /** Starts the read the next answer will come from (made once per connection, not per use). */
  watch() {
    this.pending = this.raw.read(this.buf).then(this.#settled, this.#failed);
  }

  readonly #settled = (n: number | null): number | null => {
    if (this.idle) this.#retire(this);
    return n;
  };

  readonly #failed = (): null => {
    if (this.idle) this.#retire(this);
    return null;
  };

  close() {
    if (this.dead) return;
    this.dead = true;
    try {
      this.raw.close();
    } catch { /* already closed */ }
  }

  /** Reads more bytes into the buffer, growing it up to `limit` bytes; false on EOF. */
  async fill(limit: number): Promise<boolean> {
    if (this.start === this.end && this.pending === null) this.start = this.end = 0;
    if (this.end === this.buf.length) {
      if (this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      } else {
        if (this.buf.length >= limit) throw new HttpPoolError("too_large");
        const next = new Uint8Array(Math.min(this.buf.length * 2, limit));
        next.set(this.buf.subarray(0, this.end));
        this.buf = next;
      }
    }
    // An idle connection already has its read in flight (into buf at `end`, which is 0).
    const p = this.pending ?? this.raw.read(this.buf.subarray(this.end));
    this.pending = null;
    const n = await p;
    if (n === null || n === 0) return false;
    this.end += n;
    return true;
  }
}

/**
 * Reads one answer from `conn` (a 1xx interim answer is skipped). `progress.answered` turns
 * true at the first byte: a request that got one is never sent again. Throws
 * {@link HttpPoolError}, or a plain Error when the connection ended before any byte.
 */
export async function readAnswer(
  conn: Conn,
  method: string,
  max: number,
  progress: { answered: boolean },
): Promise<Answer> {
  for (;;) {
    // The head: up to the first CRLFCRLF.
    let headEnd: number;
    while ((headEnd = indexOf4(conn.buf, conn.start, conn.end)) < 0) {
      if (conn.end - conn.start > HEAD_MAX) throw new HttpPoolError("malformed");
      if (!(await conn.fill(HEAD_MAX + 4))) {
        if (conn.end > conn.start) throw new HttpPoolError("reset");
        throw new Error("connection closed before the answer");
      }
      progress.answered = true;
    }
    const head = parseHead(text(conn.buf.subarray(conn.start, headEnd)));
    conn.start = headEnd + 4;
    const { status, headers } = head;
    if (status < 200) {
      if (status === 101 || status < 100) throw new HttpPoolError("malformed");
      continue; // 100 Continue and friends: the real answer follows
    }
    const connection = headers.get("connection")?.toLowerCase();
    let keep = connection === undefined
      ? head.http11
      : head.http11
      ? !/\bclose\b/.test(connection)
      : /\bkeep-alive\b/.test(connection);
    let body: Uint8Array;
    const te = headers.get("transfer-encoding");
    const cl = headers.get("content-length");
    if (method === "HEAD" || status === 204 || status === 304) {
      body = EMPTY;
    } else if (te !== undefined) {
      if (!/(^|,)\s*chunked\s*$/i.test(te)) throw new HttpPoolError("malformed");
      body = await readChunked(conn, max);
    } else if (cl !== undefined) {
      if (!/^\d{1,15}$/.test(cl)) throw new HttpPoolError("malformed");
      const n = Number(cl);
      if (n > max) throw new HttpPoolError("too_large");
      body = await readExactly(conn, n);
    } else {
      keep = false; // delimited by the close of the connection
      body = await readToEnd(conn, max);
    }
    // Bytes beyond the answer on a connection used for one request at a time: a broken peer.
    if (conn.end > conn.start) keep = false;
    return { status, headers, body, keep };
  }
}

export async function writeAll(conn: Deno.Conn, bytes: Uint8Array) {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/** Index of the CRLFCRLF in buf[from, to), or -1. */
function indexOf4(buf: Uint8Array, from: number, to: number): number {
  for (let i = from; i + 3 < to; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

/** The next `n` body bytes, as a copy (bodies larger than the buffer are read into place). */
async function readExactly(conn: Conn, n: number): Promise<Uint8Array> {
  const have = conn.end - conn.start;
  if (have >= n) {
    const out = conn.buf.slice(conn.start, conn.start + n);
    conn.start += n;
    return out;
  }
  if (n <= conn.buf.length - conn.start) {
    while (conn.end - conn.start < n) {
      if (!(await conn.fill(conn.buf.length))) throw new HttpPoolError("reset");
    }
    const out = conn.buf.slice(conn.start, conn.start + n);
    conn.start += n;
    return out;
  }
  const out = new Uint8Array(n);
  out.set(conn.buf.subarray(conn.start, conn.end));
  let off = have;
  conn.start = conn.end = 0;
  while (off < n) {
    const got = await conn.raw.read(out.subarray(off));
    if (got === null || got === 0) throw new HttpPoolError("reset");
    off += got;
  }
  return out;
}

/** Everything until the peer closes, at most `max` bytes. */
async function readToEnd(conn: Conn, max: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    if (conn.end > conn.start) {
      size += conn.end - conn.start;
      if (size > max) throw new HttpPoolError("too_large");
      parts.push(conn.buf.slice(conn.start, conn.end));
      conn.start = conn.end;
    }
    if (!(await conn.fill(Infinity))) return concatBytes(parts);
  }
}

/** Reads a line ending in CRLF (chunk sizes, trailers); bounded. */
async function readLine(conn: Conn): Promise<string> {
  for (;;) {
    for (let i = conn.start; i + 1 < conn.end; i++) {
      if (conn.buf[i] === 13 && conn.buf[i + 1] === 10) {
        const line = text(conn.buf.subarray(conn.start, i));
        conn.start = i + 2;
        return line;
      }
    }
    if (conn.end - conn.start > 8192) throw new HttpPoolError("malformed");
    if (!(await conn.fill(conn.buf.length))) throw new HttpPoolError("reset");
  }
}

async function readChunked(conn: Conn, max: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const line = await readLine(conn);
    const m = /^([0-9a-fA-F]{1,8})(?:;.*)?$/.exec(line.trim());
    if (!m) throw new HttpPoolError("malformed");
    const n = parseInt(m[1], 16);
    if (n === 0) break;
    size += n;
    if (size > max) throw new HttpPoolError("too_large");
    parts.push(await readExactly(conn, n));
    if ((await readLine(conn)) !== "") throw new HttpPoolError("malformed");
  }
  // Trailers, up to the empty line.
  for (let i = 0; (await readLine(conn)) !== ""; i++) {
    if (i > 64) throw new HttpPoolError("malformed");
  }
  return concatBytes(parts);
}
