/**
 * A small HTTP/1.1 client over `Deno.connect` with a keep-alive connection pool: the
 * Backend's REST hop to a remote Runtime (issue 15). Measured against Deno's `fetch` (also
 * with a tuned `Deno.createHttpClient`), `undici`'s `Pool` and `node:http` with a keep-alive
 * Agent, it is the only one that keeps the hop within the CPU budget (`bench/hop/`); the
 * maintained clients spend most of it building `Request`/`Headers`/stream objects.
 *
 * What it does: one request at a time per connection, request bytes written in one write,
 * responses framed by `Content-Length`, `chunked` or connection close; idle connections kept
 * (LIFO, up to `maxConnections` in all) and watched, so one the server closed while idle is
 * dropped rather than reused. A request on a reused connection that fails before any byte
 * of the answer (the server closed it meanwhile) is retried once on a fresh connection —
 * only for GET/HEAD, never for a request that may change something. Every request has a
 * deadline; bodies over `maxBytes` are refused; redirects are returned, never followed.
 * Errors are {@link HttpPoolError}s with a fixed kind: their messages never name the host.
 * @module
 */

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

export interface HttpPoolOptions {
  /** Host name or IP literal (an IPv6 literal with or without brackets). */
  hostname: string;
  port: number;
  /** `https:` endpoints: TLS with the platform's certificate checks. */
  tls?: boolean;
  /** Open connections at most, busy and idle together (default 64). */
  maxConnections?: number;
  /** Requests waiting for a connection at most; more fail with `busy` (default 4096). */
  maxQueue?: number;
  /** An idle connection older than this is closed instead of reused, ms (default 30 000). */
  idleTimeoutMs?: number;
}

export interface PoolRequest {
  method: string;
  /** Path with query, as sent on the request line. */
  path: string;
  /** Extra header lines, each ending in CRLF (built once by the caller); no Host/Length. */
  headers?: string;
  body?: Uint8Array;
  /** Deadline of the whole exchange (connect, write, answer), ms. */
  timeoutMs: number;
  /** The caller's own cancellation. */
  signal?: AbortSignal;
  /** Largest accepted body, bytes (default 2 MiB). */
  maxBytes?: number;
}

export interface PoolResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Map<string, string>;
  body: Uint8Array;
}

const EMPTY = new Uint8Array(0);
const HEAD_MAX = 64 * 1024;
const DEFAULT_MAX_BYTES = 2 * 1024 * 1024;
const enc = new TextEncoder();
const latin1 = new TextDecoder("latin1");
/** Deadline resolution: requests time out at most this much late. */
const SWEEP_MS = 10;

/** One request in flight: its deadline, and what to cancel when it passes or the caller aborts. */
class Flight {
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  timedOut = false;
  /** A byte of the answer arrived (a request that got one is never sent again). */
  answered = false;
  conn: Conn | null = null;
  cancelWait: (() => void) | null = null;

  constructor(timeoutMs: number, signal: AbortSignal | undefined) {
    this.deadline = Date.now() + timeoutMs;
    this.signal = signal;
  }

  get stopped(): boolean {
    return this.timedOut || (this.signal?.aborted ?? false);
  }

  /** The deadline passed or the caller aborted: break the connection or stop waiting. */
  abort() {
    this.conn?.close();
    this.cancelWait?.();
  }

  /** The caller's signal fired (an EventListener object: no closure per request). */
  handleEvent() {
    this.abort();
  }

  /** The error a failure becomes, by what stopped the request first. */
  fail(e: unknown): HttpPoolError {
    if (this.timedOut) return new HttpPoolError("timeout", e);
    if (this.signal?.aborted) return new HttpPoolError("aborted", e);
    return e instanceof HttpPoolError ? e : new HttpPoolError("reset", e);
  }
}

/** A response's status line and headers. */
interface Head {
  status: number;
  http11: boolean;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Map<string, string>;
}

/**
 * Parses a response head (status line and header lines, without the final CRLFCRLF) given as
 * a latin1 string; scans with indexOf instead of splitting, so a head costs a few strings.
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
  const headers = new Map<string, string>();
  for (let pos = h.indexOf("\r\n", 12); pos >= 0;) {
    const start = pos + 2;
    let end = h.indexOf("\r\n", start);
    if (end < 0) end = h.length;
    const colon = h.indexOf(":", start);
    if (colon <= start || colon >= end) throw new HttpPoolError("malformed");
    const name = h.slice(start, colon).trim().toLowerCase();
    let vs = colon + 1, ve = end;
    while (vs < ve && (h.charCodeAt(vs) === 32 || h.charCodeAt(vs) === 9)) vs++;
    while (ve > vs && (h.charCodeAt(ve - 1) === 32 || h.charCodeAt(ve - 1) === 9)) ve--;
    const value = h.slice(vs, ve);
    const had = headers.get(name);
    headers.set(name, had === undefined ? value : `${had}, ${value}`);
    pos = end < h.length ? end : -1;
  }
  return { status: d0 * 100 + d1 * 10 + d2, http11: minor === 49, headers };
}

/** Bytes as a latin1 string; small heads without a decoder call. */
function text(b: Uint8Array): string {
  return b.length <= 2048
    ? String.fromCharCode.apply(null, b as unknown as number[])
    : latin1.decode(b);
}

/** One keep-alive connection with its read buffer. */
class Conn {
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

/** A keep-alive HTTP/1.1 connection pool to one origin. */
export class HttpPool {
  readonly #hostname: string;
  readonly #hostHeader: string;
  readonly #port: number;
  readonly #tls: boolean;
  readonly #max: number;
  readonly #maxQueue: number;
  readonly #idleMs: number;
  #idle: Conn[] = [];
  /** Connections open or being opened. */
  #open = 0;
  /** Requests waiting for a connection: resolved with a released one, "slot" or null. */
  #waiters: ((c: Conn | "slot" | null) => void)[] = [];
  #closed = false;
  #opened = 0;
  #flights = new Set<Flight>();
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(opts: HttpPoolOptions) {
    const bare = opts.hostname.replace(/^\[(.*)\]$/, "$1");
    this.#hostname = bare;
    this.#port = opts.port;
    this.#tls = opts.tls ?? false;
    const h = bare.includes(":") ? `[${bare}]` : bare;
    this.#hostHeader = opts.port === (this.#tls ? 443 : 80) ? h : `${h}:${opts.port}`;
    this.#max = Math.max(1, opts.maxConnections ?? 64);
    this.#maxQueue = Math.max(0, opts.maxQueue ?? 4096);
    this.#idleMs = opts.idleTimeoutMs ?? 30_000;
  }

  /** Connections opened so far (tests count reuse with it). */
  get connectionsOpened(): number {
    return this.#opened;
  }

  /** Sends one request; resolves with the whole answer, or throws {@link HttpPoolError}. */
  async request(req: PoolRequest): Promise<PoolResponse> {
    const idempotent = req.method === "GET" || req.method === "HEAD";
    const flight = new Flight(req.timeoutMs, req.signal);
    this.#track(flight);
    req.signal?.addEventListener("abort", flight);
    try {
      for (let attempt = 0;; attempt++) {
        if (flight.stopped) throw flight.fail(null);
        let conn = attempt === 0 ? this.#takeIdle() : null;
        if (conn === null) {
          try {
            conn = await this.#connect(attempt > 0, flight);
          } catch (e) {
            throw flight.fail(e);
          } finally {
            flight.cancelWait = null;
          }
        }
        flight.conn = conn;
        if (flight.stopped) {
          this.#release(conn, false);
          throw flight.fail(null);
        }
        const reused = conn.uses++ > 0;
        try {
          await writeAll(conn.raw, this.#encodeRequest(conn, req));
          return await this.#readResponse(conn, req, flight);
        } catch (e) {
          this.#release(conn, false);
          flight.conn = null;
          // The server closed a kept-alive connection before answering: retry once, only
          // when repeating the request cannot change anything.
          const stale = reused && !flight.answered && !(e instanceof HttpPoolError) &&
            !flight.stopped;
          if (stale && idempotent && attempt === 0) continue;
          throw flight.fail(e);
        }
      }
    } finally {
      this.#flights.delete(flight);
      req.signal?.removeEventListener("abort", flight);
    }
  }

  /** The request line, headers and body in the connection's write buffer (one write). */
  #encodeRequest(conn: Conn, req: PoolRequest): Uint8Array {
    const head = `${req.method} ${req.path} HTTP/1.1\r\nhost: ${this.#hostHeader}\r\n` +
      (req.headers ?? "") +
      (req.body ? `content-length: ${req.body.byteLength}\r\n\r\n` : "\r\n");
    const need = head.length * 3 + (req.body?.byteLength ?? 0);
    if (conn.out.length < need) conn.out = new Uint8Array(Math.max(need, 2 * conn.out.length));
    let n = enc.encodeInto(head, conn.out).written;
    if (req.body) {
      conn.out.set(req.body, n);
      n += req.body.byteLength;
    }
    return conn.out.subarray(0, n);
  }

  /** Deadlines: one coarse sweep for every request in flight instead of a timer each. */
  #track(f: Flight) {
    this.#flights.add(f);
    if (this.#sweeper !== undefined) return;
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      for (const x of this.#flights) {
        if (x.deadline <= now) {
          this.#flights.delete(x);
          x.timedOut = true;
          x.abort();
        }
      }
      if (!this.#flights.size) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
      }
    }, SWEEP_MS);
    Deno.unrefTimer(this.#sweeper as unknown as number);
  }

  /**
   * Closes idle connections and keeps none from now on (a retired client): requests in
   * flight finish, later ones still work, each on a connection closed after it.
   */
  close(): void {
    this.#closed = true;
    for (const c of this.#idle.splice(0)) this.#drop(c);
  }

  /** Idle connections kept right now. */
  get idleConnections(): number {
    return this.#idle.length;
  }

  async #readResponse(conn: Conn, req: PoolRequest, flight: Flight): Promise<PoolResponse> {
    const max = req.maxBytes ?? DEFAULT_MAX_BYTES;
    for (;;) {
      // The head: up to the first CRLFCRLF.
      let headEnd: number;
      while ((headEnd = indexOf4(conn.buf, conn.start, conn.end)) < 0) {
        if (conn.end - conn.start > HEAD_MAX) throw new HttpPoolError("malformed");
        if (!(await conn.fill(HEAD_MAX + 4))) {
          if (conn.end > conn.start) throw new HttpPoolError("reset");
          throw new Error("connection closed before the answer");
        }
        flight.answered = true;
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
      if (req.method === "HEAD" || status === 204 || status === 304) {
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
      this.#release(conn, keep);
      return { status, headers, body };
    }
  }

  /** The newest idle connection that is still usable, or null. */
  #takeIdle(): Conn | null {
    const now = Date.now();
    while (this.#idle.length) {
      const c = this.#idle.pop()!;
      if (c.dead || now - c.idleSince > this.#idleMs) {
        this.#drop(c);
        continue;
      }
      c.idle = false;
      return c;
    }
    return null;
  }

  /**
   * A new connection, or — at the limit — the next one released (`fresh`: a new one even
   * then, for a retry). `onWait` receives the function that gives up waiting.
   */
  async #connect(fresh: boolean, flight: Flight): Promise<Conn> {
    if (this.#open >= this.#max) {
      if (fresh && this.#idle.length) {
        const old = this.#idle.shift()!;
        old.idle = false;
        old.close(); // take over its slot
        return await this.#dial(flight);
      } else {
        if (this.#waiters.length >= this.#maxQueue) throw new HttpPoolError("busy");
        const got = await new Promise<Conn | "slot" | null>((resolve) => {
          this.#waiters.push(resolve);
          flight.cancelWait = () => {
            const i = this.#waiters.indexOf(resolve);
            if (i >= 0) this.#waiters.splice(i, 1);
            resolve(null);
          };
        });
        if (got === null) throw new HttpPoolError("aborted");
        if (got !== "slot") {
          if (!fresh) return got;
          got.close(); // a retry wants a new connection: take over this one's slot
        }
        return await this.#dial(flight);
      }
    }
    this.#open++;
    return await this.#dial(flight);
  }

  /** Opens a connection in a slot already counted in `#open`. */
  async #dial(flight: Flight): Promise<Conn> {
    const opening = this.#tls
      ? Deno.connectTls({ hostname: this.#hostname, port: this.#port })
      : Deno.connect({ hostname: this.#hostname, port: this.#port });
    try {
      const raw = await new Promise<Deno.Conn>((resolve, reject) => {
        opening.then(resolve, reject);
        flight.cancelWait = () => reject(new HttpPoolError("aborted"));
      });
      if (!this.#tls) (raw as Deno.TcpConn).setNoDelay(true);
      this.#opened++;
      return new Conn(raw, this.#retireIdle);
    } catch (e) {
      // Given up (deadline) while connecting: a late connection is closed at once.
      opening.then((raw) => raw.close(), () => {});
      this.#open--;
      this.#wakeOne();
      throw e instanceof HttpPoolError ? e : new HttpPoolError("connect", e);
    }
  }

  /** A request is done with `conn`: to a waiter, to the idle list (watched), or closed. */
  #release(conn: Conn, keep: boolean) {
    if (!keep || conn.dead || this.#closed) {
      this.#drop(conn);
      return;
    }
    const w = this.#waiters.shift();
    if (w) {
      w(conn);
      return;
    }
    conn.idle = true;
    conn.idleSince = Date.now();
    conn.start = conn.end = 0;
    // The next answer's read starts now: the server closing the idle connection (or sending
    // anything unasked) retires it instead of failing the next request.
    conn.watch();
    this.#idle.push(conn);
  }

  /** An idle connection the peer closed (or wrote to unasked): out of the idle list, closed. */
  #retireIdle = (conn: Conn) => {
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
    this.#drop(conn);
  };

  #drop(conn: Conn) {
    if (conn.dead) return;
    conn.idle = false;
    conn.close();
    this.#open--;
    this.#wakeOne();
  }

  /** A slot freed up: the longest waiter may open a connection in it. */
  #wakeOne() {
    if (!this.#waiters.length || this.#open >= this.#max) return;
    this.#open++;
    this.#waiters.shift()!("slot");
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array) {
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
    if (!(await conn.fill(Infinity))) return concat(...parts);
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
  return concat(...parts);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}
