/**
 * The Workspace Backend's client for a remote Runtime (DESIGN §1, §4, §5, §8).
 *
 * Transport rules: redirects are never followed, every request times out,
 * response bodies are read as a stream with a size cap, and every failure
 * becomes a typed {@link ApiError} whose message names the runtime id and
 * never the endpoint URL, host, port or token. Deno's own error messages
 * (which embed the URL) are never passed through.
 * @module
 */
import { UpstreamSocket } from "./upstream_socket.ts";
import { followEvents, type UpstreamSource } from "./remote_events.ts";
import type { z } from "zod";
import {
  type Ack,
  AckEnvelopeSchema,
  ApiError,
  type ControlFrame,
  type CreateWorkerRequest,
  DeletedEnvelopeSchema,
  type Diagnostic,
  diagnostic,
  type ErrorBody,
  ErrorBodySchema,
  type ErrorCode,
  isName,
  isWorkerId,
  readCappedText,
  RestoreEnvelopeSchema,
  type RestoreResult,
  RUNTIME_ID_HEADER,
  RuntimeEnvelopeSchema,
  type RuntimeSummary,
  TRANSCRIPT_LIMIT_DEFAULT,
  TRANSCRIPT_LIMIT_MAX,
  TranscriptEnvelopeSchema,
  type TranscriptPage,
  type WorkerDetail,
  WorkerEnvelopeSchema,
  type WorkerEvent,
  WorkerListEnvelopeSchema,
  type WorkerStatus,
  type WorkerSummary,
} from "../../shared/mod.ts";
import { EndpointGuard, type Lookup, type RemoteEndpoint, type Secret } from "../settings/mod.ts";
import type { CapabilityMinter } from "./capability.ts";

/** Default deadline of one HTTP request (connect, headers and body). */
export const DEFAULT_TIMEOUT_MS = 5000;
/** Default cap on one response body. */
export const DEFAULT_MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
/** Default pauses between event-stream reconnect attempts (the last one repeats). */
export const DEFAULT_BACKOFF_MS: readonly number[] = [100, 200, 400, 800, 1600, 3200];
/** Default number of WS messages buffered ahead of a slow consumer. */
export const DEFAULT_MAX_BUFFERED_FRAMES = 10_000;

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

/**
 * A failure to reach the runtime at all (refused, reset, DNS, TLS, timeout), as opposed to
 * an answer the runtime gave: the registry turns it into `unreachable` at once.
 */
export class RemoteTransportError extends ApiError {}

export interface EventsOptions {
  /** Aborting ends the stream: the socket is closed and the generator returns. */
  signal: AbortSignal;
  /** Pauses between reconnect attempts; the last value repeats (default 100…3200 ms). */
  backoffMs?: readonly number[];
  /** Reconnect attempts per outage before giving up (default: unlimited). */
  maxAttempts?: number;
  /**
   * Messages buffered ahead of the consumer; beyond this the socket is dropped
   * and silently resumed from the last yielded seq once the consumer catches up.
   */
  maxBufferedFrames?: number;
}

/** What {@link RemoteRuntimeClient.events} yields. */
export type StreamFrame = WorkerEvent | ControlFrame;

/** Remote codes passed through unchanged (the Runtime's messages carry no secrets). */
const PASSTHROUGH_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "worker_not_found",
  "worker_busy",
  "worker_stopped",
  "worker_not_stopped",
  "worker_not_busy",
  "worker_not_paused",
  "profile_not_found",
  "invalid_request",
  "invalid_json",
  "unknown_profile",
  "invalid_id",
  "body_too_large",
  "runtime_stopping",
]);

/** Remote codes meaning "this route or operation does not exist here". */
const UNSUPPORTED_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "unsupported_operation",
  "not_found",
  "method_not_allowed",
]);

const REDACTED = "[redacted]";
const REMOTE_MESSAGE_MAX = 300;

/** HTTP/WS client for one remote Runtime; redacts itself when printed or serialised. */
export class RemoteRuntimeClient {
  readonly #runtimeId: string;
  readonly #endpoint: RemoteEndpoint;
  readonly #token: Secret | undefined;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #checkIdentity: boolean;
  readonly #onIdentityMismatch?: (observed: string | null) => void;
  readonly #guard: EndpointGuard;
  readonly #capabilities: CapabilityMinter | undefined;

  /** @throws ApiError `endpoint_not_allowed` for a refused IP-literal endpoint (DESIGN §8). */
  constructor(opts: RemoteRuntimeClientOptions) {
    if (!isName(opts.runtimeId)) {
      throw new ApiError("invalid_id", "Runtime ids must match ^[a-z0-9][a-z0-9_-]{0,62}$.");
    }
    this.#runtimeId = opts.runtimeId;
    this.#endpoint = opts.endpoint;
    this.#token = opts.token;
    this.#timeoutMs = positive(opts.timeoutMs, DEFAULT_TIMEOUT_MS);
    this.#maxBytes = positive(opts.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES);
    this.#checkIdentity = opts.checkIdentity ?? true;
    this.#onIdentityMismatch = opts.onIdentityMismatch;
    this.#guard = new EndpointGuard(opts.endpoint.url("/"), { lookup: opts.lookup });
    this.#capabilities = opts.token ? undefined : opts.capabilities;
  }

  /** The `Authorization` value for `method` on `url`, or null (no credential configured). */
  async #authorization(method: string, url: URL): Promise<string | null> {
    if (this.#token) return `Bearer ${this.#token.reveal()}`;
    const caps = this.#capabilities;
    if (!caps) return null;
    const token = method === "GET"
      ? await caps.read(this.#runtimeId)
      : await caps.mint(this.#runtimeId, method, url.pathname + url.search);
    return `Bearer ${token}`;
  }

  /** The target policy, before every connection (a name may have been re-pointed). */
  async #vet(): Promise<void> {
    try {
      await this.#guard.check();
    } catch (e) {
      const err = e as ApiError;
      if (err.code === "endpoint_not_allowed") {
        throw new ApiError(err.code, `Runtime "${this.#runtimeId}": ${err.message}`);
      }
      throw new RemoteTransportError(
        "remote_runtime_unavailable",
        `Runtime "${this.#runtimeId}" is unreachable: its host name does not resolve.`,
      );
    }
  }

  /** The runtime id this client was configured with. */
  get runtimeId(): string {
    return this.#runtimeId;
  }

  /** `GET /v1/runtime`, validated. */
  async runtime(signal?: AbortSignal): Promise<RuntimeSummary> {
    const raw = await this.#call("GET", "/v1/runtime", "the runtime summary", { signal });
    return this.#validate(RuntimeEnvelopeSchema, raw, "runtime summary").runtime;
  }

  /**
   * `GET /v1/runtime` with the same transport safety but no schema check:
   * the parsed JSON body as sent, for the negotiation probe (which must cope
   * with servers that are not yoi Runtimes). Non-2xx answers still throw.
   */
  async probeRuntime(
    seen: { runtimeId: string | null } = { runtimeId: null },
    signal?: AbortSignal,
  ): Promise<unknown> {
    return await this.#call("GET", "/v1/runtime", "the runtime summary", { signal, seen });
  }

  /** `GET /v1/workers`: the workers plus the runtime's own diagnostics. */
  async listWorkers(
    signal?: AbortSignal,
    status?: WorkerStatus,
  ): Promise<{ workers: WorkerSummary[]; diagnostics: Diagnostic[] }> {
    const path = status ? `/v1/workers?status=${encodeURIComponent(status)}` : "/v1/workers";
    const raw = await this.#call("GET", path, "listing workers", { signal });
    return this.#validate(WorkerListEnvelopeSchema, raw, "worker list");
  }

  /** `GET /v1/workers/{id}`. */
  async getWorker(workerId: string, signal?: AbortSignal): Promise<WorkerDetail> {
    const raw = await this.#call("GET", workerPath(workerId), "worker detail", { signal });
    return this.#validate(WorkerEnvelopeSchema, raw, "worker detail").worker;
  }

  /** `POST /v1/workers`; `request_id` makes a retry return the same worker. */
  async createWorker(req: CreateWorkerRequest, signal?: AbortSignal): Promise<WorkerDetail> {
    const raw = await this.#call("POST", "/v1/workers", "creating workers", {
      body: req,
      signal,
    });
    return this.#validate(WorkerEnvelopeSchema, raw, "worker detail").worker;
  }

  /** `POST /v1/workers/{id}/input`. */
  async input(workerId: string, text: string, signal?: AbortSignal): Promise<Ack> {
    const raw = await this.#call("POST", `${workerPath(workerId)}/input`, "worker input", {
      body: { text },
      signal,
    });
    return this.#validate(AckEnvelopeSchema, raw, "acknowledgement").ack;
  }

  /** `POST /v1/workers/{id}/cancel`. */
  async cancel(workerId: string, signal?: AbortSignal): Promise<Ack> {
    const raw = await this.#call("POST", `${workerPath(workerId)}/cancel`, "cancelling turns", {
      signal,
    });
    return this.#validate(AckEnvelopeSchema, raw, "acknowledgement").ack;
  }

  /** `POST /v1/workers/{id}/stop`. */
  async stop(workerId: string, signal?: AbortSignal): Promise<Ack> {
    const raw = await this.#call("POST", `${workerPath(workerId)}/stop`, "stopping workers", {
      signal,
    });
    return this.#validate(AckEnvelopeSchema, raw, "acknowledgement").ack;
  }

  /** `POST /v1/workers/{id}/restore[?dry_run=true]`. */
  async restore(workerId: string, dryRun = false, signal?: AbortSignal): Promise<RestoreResult> {
    const q = dryRun ? "?dry_run=true" : "";
    const raw = await this.#call(
      "POST",
      `${workerPath(workerId)}/restore${q}`,
      "restoring workers",
      {
        signal,
      },
    );
    return this.#validate(RestoreEnvelopeSchema, raw, "restore answer");
  }

  /** `POST /v1/workers/{id}/pause`. */
  async pause(workerId: string, signal?: AbortSignal): Promise<Ack> {
    const raw = await this.#call("POST", `${workerPath(workerId)}/pause`, "pausing turns", {
      signal,
    });
    return this.#validate(AckEnvelopeSchema, raw, "acknowledgement").ack;
  }

  /** `POST /v1/workers/{id}/resume`. */
  async resume(workerId: string, signal?: AbortSignal): Promise<Ack> {
    const raw = await this.#call("POST", `${workerPath(workerId)}/resume`, "resuming turns", {
      signal,
    });
    return this.#validate(AckEnvelopeSchema, raw, "acknowledgement").ack;
  }

  /** `PATCH /v1/workers/{id}` with `{display_name}`. */
  async rename(workerId: string, displayName: string, signal?: AbortSignal): Promise<WorkerDetail> {
    const raw = await this.#call("PATCH", workerPath(workerId), "renaming workers", {
      body: { display_name: displayName },
      signal,
    });
    return this.#validate(WorkerEnvelopeSchema, raw, "worker detail").worker;
  }

  /** `DELETE /v1/workers/{id}` of a stopped worker. */
  async deleteWorker(workerId: string, signal?: AbortSignal): Promise<{ worker_id: string }> {
    const raw = await this.#call("DELETE", workerPath(workerId), "deleting workers", { signal });
    return this.#validate(DeletedEnvelopeSchema, raw, "delete answer").deleted;
  }

  /** `GET /v1/workers/{id}/transcript?after=&limit=`. */
  async transcript(
    workerId: string,
    after = 0,
    limit = TRANSCRIPT_LIMIT_DEFAULT,
    signal?: AbortSignal,
  ): Promise<TranscriptPage> {
    checkSeq(after, "after");
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > TRANSCRIPT_LIMIT_MAX) {
      throw new ApiError(
        "invalid_request",
        `limit must be an integer from 1 to ${TRANSCRIPT_LIMIT_MAX}.`,
      );
    }
    const path = `${workerPath(workerId)}/transcript?after=${after}&limit=${limit}`;
    const raw = await this.#call("GET", path, "transcripts", { signal });
    return this.#validate(TranscriptEnvelopeSchema, raw, "transcript page");
  }

  /**
   * The worker's events from `after` on, then live, across upstream drops.
   *
   * Before anything is yielded the worker is looked up over HTTP, so an
   * unknown worker (or any other failure of that first request) throws its
   * {@link ApiError}; a rejected token yields one `stream.closed` frame with
   * code `remote_runtime_auth_failed` instead.
   *
   * Every seq is yielded at most once and in increasing order. When the
   * upstream drops, one `{type: "stream.reconnecting"}` is yielded, the
   * client reconnects from the last yielded seq with backoff, and yields
   * `{type: "stream.resumed", after}` once connected again. An upstream
   * `stream.closed` with `stream_lagging` (or `runtime_stopping`, as in a
   * restart) is resumed the same way; `stream_lagging` silently. Terminal
   * problems end the stream with one `stream.closed` frame. Aborting
   * `opts.signal` closes the socket and returns without a frame.
   */
  async *events(
    workerId: string,
    after: number,
    opts: EventsOptions,
  ): AsyncGenerator<StreamFrame, void, undefined> {
    const first = await this.#precheck(workerId, after, opts.signal);
    if (first === "aborted") return;
    if (first) {
      yield first;
      return;
    }
    yield* followEvents(this.#fixedSource(), workerId, after, opts);
  }

  /**
   * Like {@link RemoteRuntimeClient.events}, but the worker lookup happens
   * before the promise resolves, so an unknown worker (or an unreachable
   * runtime) rejects it: a proxy can answer with an HTTP error before it
   * upgrades its own socket. The returned stream has the same semantics.
   */
  async openEvents(
    workerId: string,
    after: number,
    opts: EventsOptions,
  ): Promise<AsyncGenerator<StreamFrame, void, undefined>> {
    const first = await this.#precheck(workerId, after, opts.signal);
    if (first === "aborted") return (async function* () {})();
    if (first) {
      return (async function* () {
        yield first;
      })();
    }
    return followEvents(this.#fixedSource(), workerId, after, opts);
  }

  /** This client as an upstream that never changes (a registry handle swaps clients). */
  #fixedSource(): UpstreamSource {
    const lease = { client: this, retired: new AbortController().signal };
    return { runtimeId: this.#runtimeId, acquire: () => Promise.resolve(lease) };
  }

  /**
   * Validates the arguments and looks the worker up. Resolves null when the
   * stream may start, a `stream.closed` frame when the token was rejected,
   * "aborted" when the signal fired; throws any other failure.
   */
  async #precheck(
    workerId: string,
    after: number,
    signal: AbortSignal,
  ): Promise<ControlFrame | "aborted" | null> {
    workerPath(workerId);
    checkSeq(after, "after");
    if (signal.aborted) return "aborted";
    try {
      await this.getWorker(workerId, signal);
      return null;
    } catch (e) {
      if (signal.aborted) return "aborted";
      if (e instanceof ApiError && e.code === "remote_runtime_auth_failed") return closedFrame(e);
      throw e;
    }
  }

  /**
   * One upstream WebSocket to the worker's event stream from `after`; the reconnecting
   * follower ({@link followEvents}) decides what its frames and its end mean.
   */
  async openSocket(
    workerId: string,
    after: number,
    signal: AbortSignal,
    maxBuffered = DEFAULT_MAX_BUFFERED_FRAMES,
  ): Promise<UpstreamSocket> {
    await this.#vet();
    const headers: Record<string, string> = {};
    const url = this.#endpoint.wsUrl(`${workerPath(workerId)}/events?after=${after}`);
    const authz = await this.#authorization("GET", url);
    if (authz) headers.authorization = authz;
    return new UpstreamSocket(url, headers, this.#timeoutMs, maxBuffered, signal);
  }

  /** Reports an event stream that did not name this runtime in its `stream.opened` frame. */
  identityMismatch(observed: string | null): ApiError {
    this.#onIdentityMismatch?.(observed);
    return mismatchError(this.#runtimeId, observed);
  }

  toString(): string {
    return `RemoteRuntimeClient(${this.#runtimeId}, endpoint ${REDACTED})`;
  }

  toJSON(): { runtime_id: string; endpoint: string } {
    return { runtime_id: this.#runtimeId, endpoint: REDACTED };
  }

  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  // ---- internals ----

  /**
   * Decides whether a WS upgrade that never opened is terminal (returns the
   * closing frame) or transient (returns null, the caller retries).
   */
  async classifyFailedUpgrade(
    workerId: string,
    upgradeStatus: number | null,
    signal: AbortSignal,
  ): Promise<ControlFrame | null> {
    try {
      await this.getWorker(workerId, signal);
    } catch (e) {
      if (!(e instanceof ApiError)) return null;
      if (
        e.code === "remote_runtime_auth_failed" || e.code === "worker_not_found" ||
        e.code === "invalid_id"
      ) return closedFrame(e);
      return null; // unreachable, timeout, stopping…: retry
    }
    // The worker is there but the events route refused the upgrade.
    if (upgradeStatus === 401 || upgradeStatus === 403) {
      return closedFrame(this.#authError(upgradeStatus));
    }
    if (upgradeStatus === 404 || upgradeStatus === 405 || upgradeStatus === 501) {
      return {
        type: "stream.closed",
        code: "remote_runtime_unsupported",
        message: `Runtime "${this.#runtimeId}" does not offer a worker event stream.`,
      };
    }
    return null;
  }

  /** One HTTP exchange; resolves with the parsed JSON of a 2xx body, else throws ApiError. */
  async #call(
    method: "GET" | "POST" | "PATCH" | "DELETE",
    path: string,
    what: string,
    opts: { body?: unknown; signal?: AbortSignal; seen?: { runtimeId: string | null } },
  ): Promise<unknown> {
    await this.#vet();
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
    const headers = new Headers({ accept: "application/json" });
    const url = this.#endpoint.url(path);
    const authz = await this.#authorization(method, url);
    if (authz) headers.set("authorization", authz);
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers.set("content-type", "application/json");
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body,
        redirect: "manual",
        signal,
      });
    } catch (e) {
      throw this.#transportError(e, timeout, opts.signal);
    }
    let read = false;
    if (opts.seen) opts.seen.runtimeId = res.headers.get(RUNTIME_ID_HEADER);
    try {
      if (this.#checkIdentity) this.#verifyIdentity(res);
      if (res.type === "opaqueredirect" || (res.status >= 300 && res.status < 400)) {
        throw new ApiError(
          "remote_runtime_unavailable",
          `Runtime "${this.#runtimeId}" answered with a redirect (HTTP ${res.status}); ` +
            `redirects are not followed.`,
        );
      }
      if (res.status === 401 || res.status === 403) throw this.#authError(res.status);
      read = true;
      let text: string | null;
      try {
        text = await readCappedText(res, this.#maxBytes);
      } catch (e) {
        throw this.#transportError(e, timeout, opts.signal);
      }
      if (!res.ok) throw this.#remoteError(res.status, text, what);
      if (text === null) {
        throw this.#malformed(`its response is larger than ${this.#maxBytes} bytes`);
      }
      try {
        return JSON.parse(text);
      } catch {
        throw this.#malformed("its response is not JSON");
      }
    } finally {
      if (!read) await res.body?.cancel().catch(() => {});
    }
  }

  /**
   * Refuses an answer that names another runtime (DESIGN §4, §10). An answer without the
   * header is refused only when it is a success: an error page of a proxy in front of a
   * runtime that is down has no header and is classified as usual.
   */
  #verifyIdentity(res: Response): void {
    const seen = res.headers.get(RUNTIME_ID_HEADER);
    if (seen === this.#runtimeId) return;
    if (seen === null && !res.ok) return;
    throw this.identityMismatch(seen);
  }

  #validate<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.infer<S> {
    const r = schema.safeParse(raw);
    if (r.success) return r.data;
    const where = r.error.issues.slice(0, 3).map((i) =>
      i.path.length
        ? i.path.map((p) => typeof p === "number" || /^[a-z0-9_]{1,40}$/.test(String(p)) ? p : "?")
          .join(".")
        : "body"
    );
    throw this.#malformed(`its ${what} does not match the protocol (at ${where.join(", ")})`);
  }

  #malformed(why: string): ApiError {
    return new ApiError(
      "remote_runtime_malformed_response",
      `Runtime "${this.#runtimeId}" sent a malformed response: ${why}.`,
    );
  }

  #authError(status: number): ApiError {
    return new ApiError(
      "remote_runtime_auth_failed",
      this.#token
        ? `Runtime "${this.#runtimeId}" rejected the configured token (HTTP ${status}).`
        : `Runtime "${this.#runtimeId}" requires a token and none is configured (HTTP ${status}).`,
    );
  }

  /** Maps a fetch/body-read failure; never uses the error's own message in the result. */
  #transportError(e: unknown, timeout: AbortSignal, caller?: AbortSignal): ApiError {
    if (e instanceof ApiError) return e;
    const id = this.#runtimeId;
    if (timeout.aborted) {
      return new RemoteTransportError(
        "remote_runtime_timeout",
        `Runtime "${id}" did not answer within ${this.#timeoutMs} ms.`,
      );
    }
    if (caller?.aborted) {
      const reason = caller.reason;
      if (reason instanceof DOMException && reason.name === "TimeoutError") {
        return new ApiError("remote_runtime_timeout", `Runtime "${id}" did not answer in time.`);
      }
      return new ApiError(
        "remote_runtime_unavailable",
        `The request to runtime "${id}" was aborted.`,
      );
    }
    return new RemoteTransportError(
      "remote_runtime_unavailable",
      `Runtime "${id}" ${networkFailure(e)}.`,
    );
  }

  /** Maps a non-2xx, non-redirect, non-auth answer. `text` is null when over the cap. */
  #remoteError(status: number, text: string | null, what: string): ApiError {
    let body: ErrorBody | null = null;
    if (text !== null) {
      try {
        const r = ErrorBodySchema.safeParse(JSON.parse(text));
        if (r.success) body = r.data;
      } catch { /* not JSON: untyped */ }
    }
    const id = this.#runtimeId;
    const code = body?.error.code;
    if (code === "unauthorized") return this.#authError(status);
    if (code && PASSTHROUGH_CODES.has(code)) {
      const msg = this.#scrub(body!.error.message) || code;
      return new ApiError(code, `Runtime "${id}": ${msg}`);
    }
    if (
      status === 501 || status === 405 || (code && UNSUPPORTED_CODES.has(code)) ||
      (status === 404 && !body)
    ) {
      return new ApiError(
        "remote_runtime_unsupported",
        `Runtime "${id}" does not support ${what} (HTTP ${status}).`,
      );
    }
    return new ApiError(
      "remote_runtime_unavailable",
      `Runtime "${id}" answered HTTP ${status}${code ? ` (${code})` : ""}.`,
      [diagnostic(
        "remote_runtime_error",
        `runtime ${id} answered ${status}${code ? ` ${code}` : ""}`,
      )],
    );
  }

  /** A remote message made safe to show: no control characters, bounded, no endpoint or token. */
  #scrub(message: string): string {
    // deno-lint-ignore no-control-regex
    let m = message.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ").trim();
    const base = this.#endpoint.url("/");
    const needles = [this.#token?.reveal(), this.#endpoint.reveal(), base.origin, base.host];
    if (base.hostname.length >= 4) needles.push(base.hostname);
    for (const n of needles) if (n) m = m.split(n).join(REDACTED);
    return m.length > REMOTE_MESSAGE_MAX ? `${m.slice(0, REMOTE_MESSAGE_MAX)}…` : m;
  }
}

// ---- helpers ----

function positive(v: number | undefined, fallback: number): number {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : fallback;
}

function checkSeq(n: number, name: string) {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ApiError("invalid_request", `${name} must be a non-negative integer.`);
  }
}

function workerPath(workerId: string): string {
  if (!isWorkerId(workerId)) {
    throw new ApiError("invalid_id", "Worker ids are UUIDv7 strings generated by the runtime.");
  }
  return `/v1/workers/${encodeURIComponent(workerId)}`;
}

function closedFrame(e: ApiError): ControlFrame {
  return { type: "stream.closed", code: e.code, message: e.message };
}

/** A fixed phrase for a network failure; the error's text is only matched, never copied. */
function networkFailure(e: unknown): string {
  const parts: string[] = [];
  for (let x: unknown = e, i = 0; x && i < 5; x = (x as { cause?: unknown }).cause, i++) {
    parts.push(String((x as { message?: unknown }).message ?? x));
  }
  const text = parts.join(" | ");
  if (/connection refused/i.test(text)) return "refused the connection";
  if (/dns|lookup|resolve|name or service|no such host|nodename/i.test(text)) {
    return "could not be resolved";
  }
  if (/certificate|tls|ssl|handshake/i.test(text)) return "failed the TLS handshake";
  if (/reset|closed before|broken pipe|eof|aborted|connection closed/i.test(text)) {
    return "closed the connection unexpectedly";
  }
  if (/blocked/i.test(text)) return "is on a port that fetch refuses to use";
  return "could not be reached";
}

/** The error of an answer or stream from another runtime than the one configured. */
export function mismatchError(runtimeId: string, observed: string | null): ApiError {
  return observed === null
    ? new ApiError(
      "runtime_protocol_unsupported",
      `The endpoint configured for runtime ${runtimeId} does not identify itself as a yoi ` +
        `runtime; nothing from it is used.`,
    )
    : new ApiError(
      "runtime_id_mismatch",
      `The endpoint configured for runtime ${runtimeId} answers as runtime ${observed}; ` +
        `nothing from it is used. Start it with --id ${runtimeId} or fix the endpoint.`,
    );
}
