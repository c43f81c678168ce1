/**
 * The Workspace Backend's client for a remote Runtime (DESIGN §1, §4, §5, §8): its REST
 * calls. Split by concern: the HTTP side (target policy, credentials, protocol check) is
 * `remote_http.ts` over the keep-alive transport `http_pool.ts`, the event stream side
 * `remote_stream.ts`, the error mapping `remote_errors.ts`.
 *
 * Transport rules: redirects are never followed, every request times out, response bodies
 * are capped, and every failure becomes a typed {@link ApiError} whose message names the
 * runtime id and never the endpoint URL, host, port or token.
 *
 * The lean path (issue 15): an answer is checked at the protocol level — identity header,
 * status, size cap, and for bodies passed on as they are, the JSON content type — and then
 * only what the Backend itself reads is checked, by hand, never by re-validating every
 * field: a worker detail or transcript page goes to the browser as the bytes the runtime
 * sent ({@link JsonBody}); acks, lists and details the Backend reads get a structural check.
 * @module
 */
import {
  type Ack,
  ApiError,
  type ControlFrame,
  type CreateWorkerRequest,
  type Diagnostic,
  DiagnosticSchema,
  isWorkerId,
  RestoreEnvelopeSchema,
  type RestoreResult,
  RuntimeEnvelopeSchema,
  type RuntimeSummary,
  TRANSCRIPT_LIMIT_DEFAULT,
  TRANSCRIPT_LIMIT_MAX,
  type TranscriptPage,
  type WorkerDetail,
  type WorkerStatus,
  type WorkerSummary,
} from "../../shared/mod.ts";
import type { JsonBody } from "./json_body.ts";
import { REDACTED } from "./remote_errors.ts";
import { RemoteHttp, type RemoteRuntimeClientOptions } from "./remote_http.ts";
import { isAck, isWorkerDetail, isWorkerSummary, shapeError } from "./remote_shapes.ts";
import {
  checkSeq,
  classifyFailedUpgrade,
  DEFAULT_MAX_BUFFERED_FRAMES,
  type EventsOptions,
  openSocket,
  precheck,
  streamAfter,
  type StreamFrame,
  workerPath,
} from "./remote_stream.ts";
import type { UpstreamSocket } from "./upstream_socket.ts";
import { runtimePath } from "../../shared/routes/mod.ts";

/** Paths without parameters, built once from the Runtime route table. */
const RUNTIME_PATH = runtimePath("runtime.get", {});
const CREATE_PATH = runtimePath("worker.create", {});

export { RemoteTransportError } from "./remote_errors.ts";
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  type RemoteRuntimeClientOptions,
} from "./remote_http.ts";
export {
  DEFAULT_BACKOFF_MS,
  DEFAULT_MAX_BUFFERED_FRAMES,
  type EventsOptions,
  type StreamFrame,
} from "./remote_stream.ts";

/** A remote runtime's worker list as the Backend keeps it (built once per change). */
export interface RemoteWorkerList {
  /** Each marked with this runtime's id. */
  workers: WorkerSummary[];
  /** The runtime's own diagnostics, as it sent them. */
  diagnostics: Diagnostic[];
  /** Each worker's JSON text, in `workers` order. */
  texts: string[];
  /** `texts` comma-joined: the runtime's part of a `workers` array. */
  json: string;
  /** The list's version (`ETag`), when the runtime sent a usable one. */
  etag: string | null;
}

/** An entity tag that can be sent back as a header value as it is. */
const ETAG = /^(W\/)?"[\x21\x23-\x7e]{0,200}"$/;
const dec = new TextDecoder();

/** HTTP/WS client for one remote Runtime; redacts itself when printed or serialised. */
export class RemoteRuntimeClient {
  readonly #http: RemoteHttp;
  /** The last list answer per status filter ("" = all): at most five, each with its ETag. */
  readonly #lists = new Map<string, RemoteWorkerList>();

  /** @throws ApiError `endpoint_not_allowed` for a refused IP-literal endpoint (DESIGN §8). */
  constructor(opts: RemoteRuntimeClientOptions) {
    this.#http = new RemoteHttp(opts);
  }

  /** The runtime id this client was configured with. */
  get runtimeId(): string {
    return this.#http.runtimeId;
  }

  /** Connections opened so far (tests see keep-alive reuse through it). */
  get connectionsOpened(): number {
    return this.#http.connectionsOpened;
  }

  /** Keeps no connection idle any more (a replaced or removed runtime); calls still work. */
  close(): void {
    this.#http.close();
  }

  /** `GET /v1/runtime`, validated (health checks: not on a request's hot path). */
  async runtime(signal?: AbortSignal): Promise<RuntimeSummary> {
    const raw = await this.#http.json("GET", RUNTIME_PATH, "the runtime summary", { signal });
    const r = RuntimeEnvelopeSchema.safeParse(raw);
    if (r.success) return r.data.runtime;
    throw this.#http.errors.malformed(`its runtime summary ${shapeError(r.error)}`);
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
    return await this.#http.json("GET", RUNTIME_PATH, "the runtime summary", { signal, seen });
  }

  /**
   * `GET /v1/workers`: the workers (each marked as this runtime's) plus the runtime's own
   * diagnostics. The last answer per status filter is kept with its `ETag` and asked for with
   * `If-None-Match`: a 304 (identity checked like every answer) returns that same object, so
   * an unchanged list costs neither a parse nor a serialisation. Callers must not mutate it.
   */
  async listWorkers(signal?: AbortSignal, status?: WorkerStatus): Promise<RemoteWorkerList> {
    const path = runtimePath("worker.list", {}, { status });
    const key = status ?? "";
    const prev = this.#lists.get(key);
    const res = await this.#http.exchange("GET", path, "listing workers", {
      signal,
      ifNoneMatch: prev?.etag ?? undefined,
    });
    if (res.status === 304 && prev) return prev;
    let raw: { workers?: unknown; diagnostics?: unknown };
    try {
      raw = JSON.parse(dec.decode(res.body));
    } catch {
      throw this.#http.errors.malformed("its response is not JSON");
    }
    const workers = raw?.workers;
    if (!Array.isArray(workers)) throw this.#shape("worker list", "workers");
    const texts: string[] = new Array(workers.length);
    const id = this.runtimeId;
    for (let i = 0; i < workers.length; i++) {
      const w = workers[i];
      if (!isWorkerSummary(w)) throw this.#shape("worker list", `workers.${i}`);
      w.runtime_id = id; // its own, whatever the body says
      texts[i] = JSON.stringify(w);
    }
    const diagnostics = raw.diagnostics ?? [];
    if (!Array.isArray(diagnostics) || !diagnostics.every(isDiagnostic)) {
      throw this.#shape("worker list", "diagnostics");
    }
    const etag = res.etag !== null && ETAG.test(res.etag) ? res.etag : null;
    const list: RemoteWorkerList = {
      workers: workers as WorkerSummary[],
      diagnostics: diagnostics as Diagnostic[],
      texts,
      json: texts.join(","),
      etag,
    };
    if (etag) this.#lists.set(key, list);
    else this.#lists.delete(key);
    return list;
  }

  /** `GET /v1/workers/{id}`. */
  async getWorker(workerId: string, signal?: AbortSignal): Promise<WorkerDetail> {
    const path = workerPath("worker.get", workerId);
    const raw = await this.#http.json("GET", path, "worker detail", { signal });
    return this.#detail(raw);
  }

  /** `GET /v1/workers/{id}` as `{worker}` bytes for the browser, unparsed (the lean path). */
  async getWorkerBody(workerId: string, signal?: AbortSignal): Promise<JsonBody> {
    const path = workerPath("worker.get", workerId);
    return await this.#http.body("GET", path, "worker detail", { signal });
  }

  /** `POST /v1/workers`; `request_id` makes a retry return the same worker. */
  async createWorker(req: CreateWorkerRequest, signal?: AbortSignal): Promise<WorkerDetail> {
    return this.#detail(
      await this.#http.json("POST", CREATE_PATH, "creating workers", { body: req, signal }),
    );
  }

  /** `POST /v1/workers/{id}/input`. */
  async input(workerId: string, text: string, signal?: AbortSignal): Promise<Ack> {
    const path = workerPath("worker.input", workerId);
    return this.#ack(
      await this.#http.json("POST", path, "worker input", { body: { text }, signal }),
    );
  }

  /** `POST /v1/workers/{id}/cancel`. */
  cancel(workerId: string, signal?: AbortSignal): Promise<Ack> {
    return this.#postForAck("worker.cancel", workerId, "cancelling turns", signal);
  }

  /** `POST /v1/workers/{id}/stop`. */
  stop(workerId: string, signal?: AbortSignal): Promise<Ack> {
    return this.#postForAck("worker.stop", workerId, "stopping workers", signal);
  }

  /** `POST /v1/workers/{id}/restore[?dry_run=true]`. */
  async restore(workerId: string, dryRun = false, signal?: AbortSignal): Promise<RestoreResult> {
    const path = workerPath("worker.restore", workerId, { dry_run: dryRun ? "true" : undefined });
    const raw = await this.#http.json("POST", path, "restoring workers", { signal });
    const r = RestoreEnvelopeSchema.safeParse(raw);
    if (r.success) return r.data;
    throw this.#http.errors.malformed(`its restore answer ${shapeError(r.error)}`);
  }

  /** `POST /v1/workers/{id}/pause`. */
  pause(workerId: string, signal?: AbortSignal): Promise<Ack> {
    return this.#postForAck("worker.pause", workerId, "pausing turns", signal);
  }

  /** `POST /v1/workers/{id}/resume`. */
  resume(workerId: string, signal?: AbortSignal): Promise<Ack> {
    return this.#postForAck("worker.resume", workerId, "resuming turns", signal);
  }

  /** `PATCH /v1/workers/{id}` with `{display_name}`. */
  async rename(workerId: string, displayName: string, signal?: AbortSignal): Promise<WorkerDetail> {
    return this.#detail(
      await this.#http.json("PATCH", workerPath("worker.rename", workerId), "renaming workers", {
        body: { display_name: displayName },
        signal,
      }),
    );
  }

  /** `DELETE /v1/workers/{id}` of a stopped worker. */
  async deleteWorker(workerId: string, signal?: AbortSignal): Promise<{ worker_id: string }> {
    const raw = await this.#http.json(
      "DELETE",
      workerPath("worker.delete", workerId),
      "deleting workers",
      {
        signal,
      },
    );
    const deleted = (raw as { deleted?: { worker_id?: unknown } })?.deleted;
    if (typeof deleted?.worker_id !== "string" || !isWorkerId(deleted.worker_id)) {
      throw this.#shape("delete answer", "deleted.worker_id");
    }
    return { worker_id: deleted.worker_id };
  }

  /** `GET /v1/workers/{id}/transcript?after=&limit=`, parsed. */
  async transcript(
    workerId: string,
    after = 0,
    limit = TRANSCRIPT_LIMIT_DEFAULT,
    signal?: AbortSignal,
  ): Promise<TranscriptPage> {
    const path = transcriptPath(workerId, after, limit);
    const raw = await this.#http.json("GET", path, "transcripts", { signal }) as Partial<
      TranscriptPage
    >;
    if (!Array.isArray(raw?.entries) || typeof raw.next_after !== "number") {
      throw this.#shape("transcript page", "entries");
    }
    return raw as TranscriptPage;
  }

  /** The transcript page as the runtime sent it, for the browser (the lean path). */
  async transcriptBody(
    workerId: string,
    after = 0,
    limit = TRANSCRIPT_LIMIT_DEFAULT,
    signal?: AbortSignal,
  ): Promise<JsonBody> {
    return await this.#http.body("GET", transcriptPath(workerId, after, limit), "transcripts", {
      signal,
    });
  }

  /**
   * The worker's events from `after` on, then live, across upstream drops.
   *
   * Before anything is yielded the worker is looked up over HTTP, so an
   * unknown worker (or any other failure of that first request) throws its
   * {@link ApiError}; a rejected token yields one `stream.closed` frame with
   * code `remote_runtime_auth_failed` instead. The frames and reconnects are
   * those of {@link followEvents} (`remote_events.ts`); aborting `opts.signal`
   * closes the socket and returns without a frame.
   */
  async *events(
    workerId: string,
    after: number,
    opts: EventsOptions,
  ): AsyncGenerator<StreamFrame, void, undefined> {
    const first = await this.#precheck(workerId, after, opts.signal);
    yield* streamAfter(this, first, workerId, after, opts);
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
    return streamAfter(this, first, workerId, after, opts);
  }

  // deno-lint-ignore require-await
  async #precheck(workerId: string, after: number, signal: AbortSignal) {
    workerPath("worker.get", workerId);
    checkSeq(after, "after");
    return precheck(() => this.getWorker(workerId, signal), signal);
  }

  /**
   * One upstream WebSocket to the worker's event stream from `after`; the reconnecting
   * follower ({@link followEvents}) decides what its frames and its end mean.
   */
  openSocket(
    workerId: string,
    after: number,
    signal: AbortSignal,
    maxBuffered = DEFAULT_MAX_BUFFERED_FRAMES,
  ): Promise<UpstreamSocket> {
    const path = workerPath("worker.events", workerId, { after });
    return openSocket(this.#http, path, signal, maxBuffered);
  }

  /**
   * Decides whether a WS upgrade that never opened is terminal (returns the
   * closing frame) or transient (returns null, the caller retries).
   */
  classifyFailedUpgrade(
    workerId: string,
    upgradeStatus: number | null,
    signal: AbortSignal,
  ): Promise<ControlFrame | null> {
    return classifyFailedUpgrade(
      this.#http,
      () => this.getWorker(workerId, signal),
      upgradeStatus,
    );
  }

  /** Reports an event stream that did not name this runtime in its `stream.opened` frame. */
  identityMismatch(observed: string | null): ApiError {
    return this.#http.identityMismatch(observed);
  }

  toString(): string {
    return `RemoteRuntimeClient(${this.runtimeId}, endpoint ${REDACTED})`;
  }

  toJSON(): { runtime_id: string; endpoint: string } {
    return { runtime_id: this.runtimeId, endpoint: REDACTED };
  }

  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  // ---- internals ----

  #detail(raw: unknown): WorkerDetail {
    const w = (raw as { worker?: unknown })?.worker;
    if (!isWorkerDetail(w)) throw this.#shape("worker detail", "worker");
    return w;
  }

  /** A body-less lifecycle POST (cancel, stop, pause, resume) answered by an ack. */
  async #postForAck(
    op: "worker.cancel" | "worker.stop" | "worker.pause" | "worker.resume",
    workerId: string,
    what: string,
    signal?: AbortSignal,
  ): Promise<Ack> {
    const path = workerPath(op, workerId);
    return this.#ack(await this.#http.json("POST", path, what, { signal }));
  }

  #ack(raw: unknown): Ack {
    const a = (raw as { ack?: unknown })?.ack;
    if (!isAck(a)) throw this.#shape("acknowledgement", "ack");
    return { worker_id: a.worker_id, status: a.status, seq: a.seq };
  }

  #shape(what: string, where: string): ApiError {
    return this.#http.errors.malformed(`its ${what} does not match the protocol (at ${where})`);
  }
}

// ---- helpers ----

function transcriptPath(workerId: string, after: number, limit: number): string {
  checkSeq(after, "after");
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > TRANSCRIPT_LIMIT_MAX) {
    throw new ApiError(
      "invalid_request",
      `limit must be an integer from 1 to ${TRANSCRIPT_LIMIT_MAX}.`,
    );
  }
  return workerPath("worker.transcript", workerId, { after, limit });
}

/** Diagnostics are few (usually none) and their text is shown: the full schema. */
function isDiagnostic(d: unknown): boolean {
  return DiagnosticSchema.safeParse(d).success;
}
