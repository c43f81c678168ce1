/**
 * One remote Runtime's HTTP side: the target policy before every connection, the
 * credential of each request (bearer token or capability token, DESIGN §8), the keep-alive
 * transport (`http_pool.ts`) and the protocol check of every answer — identity header,
 * redirects, auth, status, size cap — with failures mapped by `remote_errors.ts`.
 * The REST operations on top are `remote_client.ts`.
 *
 * Parsed once per connection, not per request: the endpoint's host, port and path prefix,
 * and the fixed header lines (issue 15).
 * @module
 */
import { ApiError, isName, RUNTIME_ID_HEADER } from "../../shared/mod.ts";
import { EndpointGuard, type Lookup, type RemoteEndpoint, type Secret } from "../settings/mod.ts";
import type { CapabilityMinter } from "./capability.ts";
import { HttpPool } from "./http_pool.ts";
import { JsonBody } from "./json_body.ts";
import { mismatchError, RemoteErrors } from "./remote_errors.ts";
import type { StreamSide } from "./remote_stream.ts";

/** Default deadline of one HTTP request (connect, headers and body). */
export const DEFAULT_TIMEOUT_MS = 5000;
/** Default cap on one response body. */
export const DEFAULT_MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
/** Connections kept to one runtime at most (busy and idle). */
const MAX_CONNECTIONS = 64;

export interface RemoteRuntimeClientOptions {
  /** The id the Backend knows this runtime by; the only name used in messages. */
  runtimeId: string;
  endpoint: RemoteEndpoint;
  /** Bearer token sent on every request and on the WS upgrade. */
  token?: Secret;
  /**
   * Without a token: capability tokens (DESIGN §8) — one per mutating request, and the
   * runtime's shared read-scoped token for reads and event streams.
   */
  capabilities?: CapabilityMinter;
  /** Per-request deadline in ms (default {@link DEFAULT_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Largest accepted response body in bytes (default {@link DEFAULT_MAX_RESPONSE_BYTES}). */
  maxResponseBytes?: number;
  /**
   * Compare every answer's `Yoi-Runtime-Id` with `runtimeId` (default true); the probe
   * turns it off because it reports identity itself.
   */
  checkIdentity?: boolean;
  /** Told when an answer came from another runtime (the answer itself is refused). */
  onIdentityMismatch?: (observed: string | null) => void;
  /** Resolver for the endpoint target policy (default: the system resolver, DESIGN §8). */
  lookup?: Lookup;
}

export type Method = "GET" | "POST" | "PATCH" | "DELETE";

export interface CallOptions {
  body?: unknown;
  signal?: AbortSignal;
  /** Receives the `Yoi-Runtime-Id` of the answer, whatever it is (the probe reports it). */
  seen?: { runtimeId: string | null };
  /** Sent as `If-None-Match`: a 304 then answers (after the identity check) instead of failing. */
  ifNoneMatch?: string;
}

/** A 2xx answer (or a 304 to `ifNoneMatch`) that passed the protocol check. */
export interface Exchanged {
  status: number;
  body: Uint8Array;
  type: string;
  etag: string | null;
}

const ACCEPT = "accept: application/json\r\n";
const JSON_TYPE = /^application\/json\s*(;|$)/i;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** The HTTP side of one remote client; lives inside it and never prints anything secret. */
export class RemoteHttp implements StreamSide {
  readonly runtimeId: string;
  readonly endpoint: RemoteEndpoint;
  readonly timeoutMs: number;
  readonly errors: RemoteErrors;
  readonly #token: Secret | undefined;
  readonly #maxBytes: number;
  readonly #checkIdentity: boolean;
  readonly #onIdentityMismatch?: (observed: string | null) => void;
  readonly #guard: EndpointGuard;
  readonly #capabilities: CapabilityMinter | undefined;
  readonly #pool: HttpPool;
  /** The endpoint's own path (a prefix of every request path). */
  readonly #prefix: string;
  /** The header lines of every request with the bearer token (when one is configured). */
  readonly #bearerLines: string;
  /** The header lines of reads with the current shared read token. */
  #readCache: { token: Promise<string>; lines: string } | undefined;

  /** @throws ApiError `endpoint_not_allowed` for a refused IP-literal endpoint (DESIGN §8). */
  constructor(opts: RemoteRuntimeClientOptions) {
    if (!isName(opts.runtimeId)) {
      throw new ApiError("invalid_id", "Runtime ids must match ^[a-z0-9][a-z0-9_-]{0,62}$.");
    }
    this.runtimeId = opts.runtimeId;
    this.endpoint = opts.endpoint;
    this.#token = opts.token;
    this.timeoutMs = positive(opts.timeoutMs, DEFAULT_TIMEOUT_MS);
    this.#maxBytes = positive(opts.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES);
    this.#checkIdentity = opts.checkIdentity ?? true;
    this.#onIdentityMismatch = opts.onIdentityMismatch;
    const base = opts.endpoint.url("/");
    this.#guard = new EndpointGuard(base, { lookup: opts.lookup });
    this.#capabilities = opts.token ? undefined : opts.capabilities;
    this.errors = new RemoteErrors(
      opts.runtimeId,
      opts.endpoint,
      opts.token,
      this.timeoutMs,
      this.#maxBytes,
    );
    this.#prefix = base.pathname.replace(/\/+$/, "");
    this.#bearerLines = opts.token
      ? `${ACCEPT}authorization: Bearer ${opts.token.reveal()}\r\n`
      : ACCEPT;
    const tls = base.protocol === "https:";
    this.#pool = new HttpPool({
      hostname: base.hostname,
      port: base.port ? Number(base.port) : tls ? 443 : 80,
      tls,
      maxConnections: MAX_CONNECTIONS,
    });
  }

  /** Connections opened so far (tests see keep-alive reuse through it). */
  get connectionsOpened(): number {
    return this.#pool.connectionsOpened;
  }

  /** Keeps no connection idle any more; requests still work (each on its own connection). */
  close(): void {
    this.#pool.close();
  }

  /**
   * The header lines of a GET, or undefined when they must be awaited: built once per read
   * credential (the bearer token, or the shared read token until it is renewed), not per
   * request.
   */
  #readLines(): string | undefined {
    if (this.#token) return this.#bearerLines;
    const caps = this.#capabilities;
    if (!caps) return ACCEPT;
    const cached = this.#readCache;
    return cached && cached.token === caps.read(this.runtimeId) ? cached.lines : undefined;
  }

  /** The header lines of `method` on `path` with its credential. */
  async #lines(method: Method, path: string): Promise<string> {
    if (method === "GET") {
      const ready = this.#readLines();
      if (ready !== undefined) return ready;
      const token = this.#capabilities!.read(this.runtimeId);
      const lines = `${ACCEPT}authorization: Bearer ${await token}\r\n`;
      this.#readCache = { token, lines };
      return lines;
    }
    const authz = await this.authorization(method, path);
    return authz ? `${ACCEPT}authorization: ${authz}\r\n` : ACCEPT;
  }

  /** The `Authorization` value for `method` on `pathWithQuery`, or null (none configured). */
  async authorization(method: string, pathWithQuery: string): Promise<string | null> {
    if (this.#token) return `Bearer ${this.#token.reveal()}`;
    const caps = this.#capabilities;
    if (!caps) return null;
    const token = method === "GET"
      ? await caps.read(this.runtimeId)
      : await caps.mint(this.runtimeId, method, pathWithQuery);
    return `Bearer ${token}`;
  }

  /** The target policy, before every connection (a name may have been re-pointed). */
  async vet(): Promise<void> {
    try {
      await this.#guard.check();
    } catch (e) {
      throw this.errors.vetting(e);
    }
  }

  /** Reports an answer or stream from another runtime; the error refuses it. */
  identityMismatch(observed: string | null): ApiError {
    this.#onIdentityMismatch?.(observed);
    return mismatchError(this.runtimeId, observed);
  }

  /** One exchange whose 2xx body is parsed as JSON. */
  async json(method: Method, path: string, what: string, opts: CallOptions): Promise<unknown> {
    const { body } = await this.exchange(method, path, what, opts);
    try {
      return JSON.parse(dec.decode(body));
    } catch {
      throw this.errors.malformed("its response is not JSON");
    }
  }

  /** One exchange whose 2xx body is passed on unparsed: it must say it is a JSON object. */
  async body(method: Method, path: string, what: string, opts: CallOptions): Promise<JsonBody> {
    const { body, type } = await this.exchange(method, path, what, opts);
    if (!JSON_TYPE.test(type) || !looksLikeObject(body)) {
      throw this.errors.malformed("its response is not JSON");
    }
    return new JsonBody(body);
  }

  /**
   * One HTTP exchange: resolves with a 2xx answer that passed the protocol check (identity,
   * no redirect, size cap), else throws the mapped ApiError.
   */
  async exchange(
    method: Method,
    path: string,
    what: string,
    opts: CallOptions,
  ): Promise<Exchanged> {
    if (!this.#guard.fresh) await this.vet();
    const full = this.#prefix + path;
    let headers = (method === "GET" ? this.#readLines() : undefined) ??
      await this.#lines(method, full);
    if (opts.ifNoneMatch !== undefined) headers += `if-none-match: ${opts.ifNoneMatch}\r\n`;
    let body: Uint8Array | undefined;
    if (opts.body !== undefined) {
      body = enc.encode(JSON.stringify(opts.body));
      headers += "content-type: application/json\r\n";
    }
    let res;
    try {
      res = await this.#pool.request({
        method,
        path: full,
        headers,
        body,
        timeoutMs: this.timeoutMs,
        signal: opts.signal,
        maxBytes: this.#maxBytes,
      });
    } catch (e) {
      throw this.errors.transport(e, opts.signal);
    }
    const { status } = res;
    const seen = res.headers.get(RUNTIME_ID_HEADER) ?? null;
    if (opts.seen) opts.seen.runtimeId = seen;
    const ok = status >= 200 && status < 300;
    // A 304 vouches for the kept answer: it must name the runtime like a 2xx.
    const notModified = status === 304 && opts.ifNoneMatch !== undefined;
    // An answer without the header is refused only when it is a success: an error page of a
    // proxy in front of a runtime that is down has no header and is classified as usual.
    if (this.#checkIdentity && seen !== this.runtimeId && (seen !== null || ok || notModified)) {
      throw this.identityMismatch(seen);
    }
    if (status >= 300 && status < 400 && !notModified) throw this.errors.redirect(status);
    if (status === 401 || status === 403) throw this.errors.auth(status);
    if (!ok && !notModified) throw this.errors.remote(status, dec.decode(res.body), what);
    return {
      status,
      body: res.body,
      type: res.headers.get("content-type") ?? "",
      etag: res.headers.get("etag") ?? null,
    };
  }

  toString(): string {
    return "RemoteHttp([redacted])";
  }

  toJSON(): string {
    return this.toString();
  }

  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }
}

function positive(v: number | undefined, fallback: number): number {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : fallback;
}

/** First and last non-blank bytes are `{` and `}`: a JSON object as far as a proxy can tell. */
function looksLikeObject(b: Uint8Array): boolean {
  let i = 0;
  let j = b.length - 1;
  while (i <= j && (b[i] === 32 || b[i] === 10 || b[i] === 13 || b[i] === 9)) i++;
  while (j >= i && (b[j] === 32 || b[j] === 10 || b[j] === 13 || b[j] === 9)) j--;
  return i < j && b[i] === 0x7b && b[j] === 0x7d;
}
