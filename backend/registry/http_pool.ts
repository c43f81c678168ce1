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
 * The framing of one connection (reading an answer) is `http_framing.ts`.
 * @module
 */
import { Conn, type HeaderFields, HttpPoolError, readAnswer, writeAll } from "./http_framing.ts";

export {
  type HeaderFields,
  HttpPoolError,
  type HttpPoolErrorKind,
  parseHead,
} from "./http_framing.ts";

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
  headers: HeaderFields;
  body: Uint8Array;
}

const DEFAULT_MAX_BYTES = 2 * 1024 * 1024;
const enc = new TextEncoder();
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
          const bytes = this.#encodeRequest(conn, req);
          const n = await conn.raw.write(bytes); // one write, as a rule
          if (n < bytes.length) await writeAll(conn.raw, bytes.subarray(n));
          const a = await readAnswer(conn, req.method, req.maxBytes ?? DEFAULT_MAX_BYTES, flight);
          this.#release(conn, a.keep);
          return { status: a.status, headers: a.headers, body: a.body };
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
