/**
 * A remote Runtime process as a registry entry (DESIGN §10): a live state (`connecting`, `ready`,
 * `unreachable`, `auth_failed`, `incompatible`, `unconfigured`) kept true by periodic health
 * checks and by every answer, and a client that can be swapped (edit) or retired (delete) while
 * calls and streams are in flight. Nothing is routed to it unless it is `ready`. Its endpoint
 * and token stay inside this object.
 * @module
 */
import {
  type Ack,
  ApiError,
  type CreateWorkerRequest,
  type Diagnostic,
  diagnostic,
  type RestoreResult,
  type RuntimeEntry,
  type RuntimeHealth,
  type RuntimeState,
  type RuntimeSummary,
  type TranscriptPage,
  type WorkerDetail,
  type WorkerStatus,
} from "../../shared/mod.ts";
import {
  type RemoteConfig,
  RemoteEndpoint,
  resolveTokenRef,
  type TokenRefPolicy,
} from "../settings/mod.ts";
import {
  RemoteRuntimeClient,
  RemoteTransportError,
  type RemoteWorkerList,
} from "./remote_client.ts";
import { compatibilityProblems, HealthRecord, HealthSchedule, stateOf } from "./health.ts";
import { followRelay, leasedSource } from "./remote_events.ts";
import type { RuntimeHandle, WorkerList } from "./runtime_handle.ts";
import { EventFanout, type EventSink, type FanoutOptions } from "./event_fanout.ts";
import type { CapabilityMinter } from "./capability.ts";
import { ListMirror, ListViews, staleList } from "./list_feed.ts";

export interface RemoteHandleOptions {
  /** Per-request timeout for the remote client, ms. */
  timeoutMs?: number;
  /** Environment lookup for `token_ref = "env:NAME"` (default: the process environment). */
  env?: (name: string) => string | undefined;
  /** Which token_refs may resolve (DESIGN §8); a refused one leaves the runtime `unconfigured`. */
  tokenPolicy?: TokenRefPolicy;
  /** Capability tokens for a connection without token_ref (DESIGN §8). */
  capabilities?: CapabilityMinter;
  /** Backoff schedule for event stream reconnects, ms. */
  backoffMs?: number[];
  /** Shared event streams: linger and per-browser high-water mark. */
  fanout?: FanoutOptions;
  /** Told whenever the state, health or config of this runtime changes. */
  onChange?: () => void;
  /** Told when the list feed brings a changed worker list (the live lists refresh). */
  onWorkersChange?: () => void;
}

/** A check that ended this recently answers an inline re-check (no storm of checks). */
const RECHECK_FRESH_MS = 250;
const RECHECK_MAX_MS = 2_000; // a runtime back after a long outage is used within 2 s

/** The client of one configuration; retired (streams move on) when the config changes. */
interface Connection {
  cfg: RemoteConfig;
  client: RemoteRuntimeClient | null;
  setupError: ApiError | null;
  retired: AbortController;
}

export class RemoteRuntimeHandle implements RuntimeHandle {
  readonly runtimeId: string;
  readonly kind = "remote" as const;
  readonly #opts: RemoteHandleOptions;
  #conn: Connection;
  #state: RuntimeState = "connecting";
  /** Why the runtime is not ready (the error a refused call answers with). */
  #reason: ApiError | null = null;
  #summary: RuntimeSummary | null = null;
  readonly #health = new HealthRecord();
  /** Was `ready` at least once with the current configuration. */
  #verified = false;
  /** What was built from the last list answers, and the last-known workers. */
  readonly #views = new ListViews();
  #inflight: Promise<void> | null = null;
  #lastCheckEnded = 0;
  readonly #schedule = new HealthSchedule(() => this.check(), () => this.#health.failures);
  /** The kept worker list, fed by held list requests while ready (`list_feed.ts`); a failed
   * poll only ends the feed (the next call finds out about the runtime, as before). */
  readonly #mirror = new ListMirror({
    eligible: () =>
      this.#state === "ready" && !this.#removed && this.#summary?.capabilities.list_wait === true,
    poll: (waitMs, signal) =>
      this.#conn.client?.listWorkers(signal, undefined, waitMs) ?? Promise.reject(this.#refusal()),
  }, { onChanged: () => this.#opts.onWorkersChange?.() });
  #removed = false;
  /** Removed because the Backend is stopping, not because the connection was deleted. */
  #shuttingDown = false;
  /** The shared event streams of this runtime's workers (one upstream socket per worker). */
  readonly fanout: EventFanout;

  constructor(cfg: RemoteConfig, opts: RemoteHandleOptions = {}) {
    this.runtimeId = cfg.id;
    this.#opts = opts;
    this.#conn = this.#connect(cfg);
    if (!this.#conn.client) this.#setState("unconfigured", this.#conn.setupError);
    // Each (re)connect of a follower takes the current client, re-checked inline.
    const upstream = leasedSource(this.runtimeId, {
      removed: () => this.#removed ? (this.#shuttingDown ? "shutdown" : "runtime_removed") : null,
      lease: async () => {
        const { conn, client } = await this.#ready();
        return { client, retired: conn.retired.signal };
      },
    });
    this.fanout = new EventFanout({
      head: async (workerId) => (await this.getWorker(workerId)).last_seq,
      follow: (workerId, after, signal) =>
        followRelay(upstream, workerId, after, { signal, backoffMs: opts.backoffMs }),
      replay: async (workerId, after, limit) =>
        (await this.transcript(workerId, after, limit)).entries,
    }, opts.fanout);
  }

  get displayName(): string {
    return this.#conn.cfg.display_name ?? this.runtimeId;
  }

  /** The configuration the live client was built from (endpoint as typed). */
  get config(): RemoteConfig {
    return this.#conn.cfg;
  }

  get state(): RuntimeState {
    return this.#state;
  }

  /** Live health, as shown in runtime entries and settings rows. */
  health(): RuntimeHealth {
    return {
      state: this.#state,
      last_checked_at: this.#health.lastCheckedAt,
      last_ok_at: this.#health.lastOkAt,
      latency_ms: this.#health.latencyMs,
      worker_count: this.#state === "ready" ? this.#summary?.worker_count ?? null : null,
      health_history: [...this.#health.history],
    };
  }

  /** Diagnostics of the current state (none when ready). */
  stateDiagnostics(): Diagnostic[] {
    if (this.#state === "ready" || this.#state === "connecting" || !this.#reason) return [];
    return [{
      ...diagnostic(this.#reason.code, this.#reason.message),
      runtime_id: this.runtimeId,
    }];
  }

  // ---- health ----

  /**
   * One health check (`GET /v1/runtime`); concurrent callers share the check in flight, so
   * there is never more than one per runtime.
   */
  check(): Promise<void> {
    if (this.#removed) return Promise.resolve();
    this.#inflight ??= this.#runCheck().finally(() => {
      this.#inflight = null;
      this.#lastCheckEnded = performance.now();
    });
    return this.#inflight;
  }

  /**
   * Starts periodic checks every `intervalMs` (±20 % jitter), the first one at once; 0 turns
   * them off. After 5 failures in a row the interval doubles per failure up to 60 s.
   */
  startHealth(intervalMs: number): void {
    this.#schedule.start(intervalMs);
  }

  async #runCheck(): Promise<void> {
    const conn = this.#conn;
    if (!conn.client) {
      this.#record(conn, "unconfigured", conn.setupError, null);
      return;
    }
    const t0 = performance.now();
    let summary: RuntimeSummary;
    try {
      summary = await conn.client.runtime();
    } catch (e) {
      if (conn !== this.#conn) return; // replaced meanwhile: its result means nothing
      const err = e instanceof ApiError
        ? e
        : new ApiError("remote_runtime_unavailable", `Runtime ${this.runtimeId} failed a check.`);
      const answered = !(err instanceof RemoteTransportError);
      this.#record(conn, stateOf(err), err, answered ? performance.now() - t0 : null);
      return;
    }
    if (conn !== this.#conn) return;
    const latency = performance.now() - t0;
    const problems = compatibilityProblems(this.runtimeId, summary);
    if (problems.length) {
      this.#record(
        conn,
        "incompatible",
        new ApiError(problems[0].code, problems[0].message),
        latency,
      );
      return;
    }
    this.#summary = summary;
    this.#record(conn, "ready", null, latency);
  }

  /** Stores one check's outcome in the state, the timestamps and the history. */
  #record(conn: Connection, state: RuntimeState, reason: ApiError | null, latency: number | null) {
    if (conn !== this.#conn) return;
    if (state === "ready") this.#verified = true;
    const changed = this.#setState(state, reason);
    this.#health.record(state, reason?.code ?? null, latency, changed);
    if (state === "ready") this.#mirror.start();
    this.#opts.onChange?.();
  }

  /** Returns whether the state changed. */
  #setState(state: RuntimeState, reason: ApiError | null): boolean {
    const changed = state !== this.#state;
    this.#state = state;
    this.#reason = reason;
    if (state !== "ready") this.#mirror.distrust();
    if (changed && state !== "ready") {
      this.#summary = state === "unreachable" ? this.#summary : null;
    }
    return changed;
  }

  /** Something this runtime sent proves it is another runtime: incompatible at once. */
  #onIdentityMismatch(conn: Connection, observed: string | null) {
    if (conn !== this.#conn) return;
    const err = observed === null
      ? new ApiError(
        "runtime_protocol_unsupported",
        `The endpoint configured for runtime ${this.runtimeId} stopped identifying itself as a ` +
          `yoi runtime.`,
      )
      : new ApiError(
        "runtime_id_mismatch",
        `The endpoint configured for runtime ${this.runtimeId} now answers as runtime ` +
          `${observed}; it points at another runtime.`,
      );
    this.#record(conn, "incompatible", err, null);
  }

  /** A call could not reach the runtime at all: it is unreachable now, not at the next tick. */
  #onTransportFailure(conn: Connection, e: unknown) {
    if (e instanceof RemoteTransportError && this.#state === "ready") {
      this.#record(conn, "unreachable", e, null);
    }
  }

  /** Age past which a request re-checks inline: 250 ms ×2 per failure, ≤ 2 s (≤ the interval). */
  #recheckAfterMs(): number {
    const cap = Math.max(Math.min(this.#schedule.intervalMs, RECHECK_MAX_MS), RECHECK_FRESH_MS);
    return Math.min(RECHECK_FRESH_MS * 2 ** Math.min(this.#health.failures, 16), cap);
  }

  /**
   * The client when the runtime is `ready`; otherwise one inline re-check (shared with a
   * check in flight, or answered by one that just ended), then the state's typed refusal.
   */
  async #ready(): Promise<{ conn: Connection; client: RemoteRuntimeClient }> {
    if (this.#removed) {
      throw new ApiError("runtime_not_found", `Runtime ${this.runtimeId} is not registered.`);
    }
    if (this.#state !== "ready") {
      if (this.#inflight || performance.now() - this.#lastCheckEnded > this.#recheckAfterMs()) {
        await this.check();
      }
      if (this.#removed) {
        throw new ApiError("runtime_not_found", `Runtime ${this.runtimeId} is not registered.`);
      }
    }
    const conn = this.#conn;
    if (this.#state !== "ready" || !conn.client) throw this.#refusal();
    return { conn, client: conn.client };
  }

  #refusal(): ApiError {
    if (this.#reason) return this.#reason;
    return new ApiError(
      "remote_runtime_unavailable",
      `Runtime ${this.runtimeId} is ${
        this.#state === "connecting" ? "still connecting" : "not ready"
      }.`,
    );
  }

  /**
   * Runs a call on the ready client and learns from a transport failure; once it ended, the
   * next list asks the runtime itself (a list call excepted; read-your-writes, `list_feed.ts`).
   */
  async #call<T>(fn: (c: RemoteRuntimeClient) => Promise<T>, list = false): Promise<T> {
    // A ready runtime (the usual case) is used without waiting for anything first.
    const now = this.#conn;
    const { conn, client } = this.#state === "ready" && !this.#removed && now.client
      ? { conn: now, client: now.client }
      : await this.#ready();
    try {
      return await fn(client);
    } catch (e) {
      this.#onTransportFailure(conn, e);
      throw e;
    } finally {
      if (!list) this.#mirror.touched();
    }
  }

  // ---- RuntimeHandle ----

  /** The live projection; no network (health checks keep it current). */
  describe(): Promise<RuntimeEntry> {
    const ready = this.#state === "ready";
    const s = this.#summary;
    return Promise.resolve({
      ...this.health(),
      runtime_id: this.runtimeId,
      kind: this.kind,
      display_name: this.displayName,
      status: ready && s ? s.status : this.#state === "ready" ? "connecting" : this.#state,
      protocol: ready && s ? s.protocol : null,
      capabilities: ready && s ? s.capabilities : null,
      profiles: ready && s ? s.profiles : [],
      worker_count: ready && s ? s.worker_count : null,
      // As of the last health check, like worker_count (describe() does no network).
      worker_counts: ready && s ? s.worker_counts ?? null : null,
      can_create_worker: ready && !!s && s.status === "running" && s.capabilities.create_worker,
      os: s?.os ?? null,
      arch: s?.arch ?? null,
      diagnostics: this.stateDiagnostics(),
    });
  }

  /**
   * Workers of a ready runtime. A runtime that was verified and is now unreachable lists its
   * last-known workers with `stale: true`; any other state lists none (the caller adds the
   * state as a diagnostic).
   */
  async listWorkers(signal?: AbortSignal, status?: WorkerStatus): Promise<WorkerList> {
    try {
      return this.listKept(status) ??
        this.#views.view(this.runtimeId, await this.#listDirect(signal, status), status);
    } catch (e) {
      const lastKnown = this.#views.lastKnown;
      if (this.#state === "unreachable" && this.#verified && lastKnown) {
        return staleList(this.runtimeId, lastKnown, this.stateDiagnostics(), status);
      }
      throw e;
    }
  }

  /** The list from the mirror while it can be trusted (`list_feed.ts`): no request, no wait. */
  listKept(status?: WorkerStatus): WorkerList | null {
    const r = this.#state === "ready" ? this.#mirror.fresh(status) : null;
    return r && this.#views.view(this.runtimeId, r, status);
  }

  /** A conditional GET of the list; an unfiltered answer refreshes the mirror. */
  async #listDirect(signal?: AbortSignal, status?: WorkerStatus): Promise<RemoteWorkerList> {
    const ticket = this.#mirror.ticket();
    const r = await this.#call((c) => c.listWorkers(signal, status), true);
    if (!status) this.#mirror.answered(r, ticket);
    this.#mirror.start(); // it answered: a feed that failed may run again
    return r;
  }

  async getWorker(workerId: string): Promise<WorkerDetail> {
    return this.#own(await this.#call((c) => c.getWorker(workerId)));
  }

  workerEnvelope = (id: string) => this.#call((c) => c.getWorkerBody(id));

  async createWorker(req: CreateWorkerRequest): Promise<WorkerDetail> {
    return this.#own(await this.#call((c) => c.createWorker(req)));
  }

  // Calls whose answer the handle passes on as the client checked it.
  input = (id: string, text: string): Promise<Ack> => this.#call((c) => c.input(id, text));
  cancel = (id: string): Promise<Ack> => this.#call((c) => c.cancel(id));
  stop = (id: string): Promise<Ack> => this.#call((c) => c.stop(id));
  pause = (id: string): Promise<Ack> => this.#call((c) => c.pause(id));
  resume = (id: string): Promise<Ack> => this.#call((c) => c.resume(id));
  restore = (id: string, dryRun: boolean): Promise<RestoreResult> =>
    this.#call((c) => c.restore(id, dryRun));

  async rename(workerId: string, displayName: string): Promise<WorkerDetail> {
    return this.#own(await this.#call((c) => c.rename(workerId, displayName)));
  }

  deleteWorker = (id: string): Promise<{ worker_id: string }> =>
    this.#call((c) => c.deleteWorker(id));
  transcript = (id: string, after: number, limit: number): Promise<TranscriptPage> =>
    this.#call((c) => c.transcript(id, after, limit));
  transcriptEnvelope = (id: string, after: number, limit: number) =>
    this.#call((c) => c.transcriptBody(id, after, limit));

  /**
   * The worker's events through whichever client is current, one upstream socket per worker
   * for every browser: an edit hands it over to the new endpoint from the last forwarded seq,
   * a delete ends it with `runtime_removed`, each reconnect re-checks the runtime inline.
   */
  streamEvents(w: string, after: number, sink: EventSink, signal: AbortSignal) {
    return this.fanout.subscribe(w, after, sink, signal);
  }

  /**
   * Applies an edited configuration: a new client replaces the old one at once (in-flight
   * calls finish on the old one), open streams reconnect through the new one, and the
   * runtime is `connecting` until its first check.
   */
  reconfigure(cfg: RemoteConfig): void {
    const old = this.#conn;
    this.#mirror.stop(); // the new client's first ready check starts it again
    this.#conn = this.#connect(cfg);
    old.retired.abort();
    this.#verified = false;
    this.#views.clear();
    this.#summary = null;
    this.#health.failures = 0;
    if (this.#conn.client) this.#setState("connecting", null);
    else this.#setState("unconfigured", this.#conn.setupError);
    this.#opts.onChange?.();
    if (this.#schedule.intervalMs > 0) this.#schedule.start(this.#schedule.intervalMs);
    else this.check().catch(() => {});
  }

  /** Takes the runtime out of service: calls get `runtime_not_found`, streams end. */
  remove(): void {
    this.#removed = true;
    this.#schedule.stop();
    this.#mirror.stop();
    this.#conn.retired.abort();
  }

  /** The Backend is stopping: streams end with `shutdown`. */
  close(): Promise<void> {
    this.#shuttingDown = true;
    this.remove();
    return Promise.resolve();
  }

  #connect(cfg: RemoteConfig): Connection {
    const conn: Connection = {
      cfg,
      client: null,
      setupError: null,
      retired: new AbortController(),
    };
    conn.retired.signal.onabort = () => conn.client?.close(); // in-flight calls still finish
    try {
      const token = cfg.token_ref
        ? resolveTokenRef(cfg.token_ref, {
          ...this.#opts.tokenPolicy,
          env: this.#opts.env ?? this.#opts.tokenPolicy?.env,
        })
        : undefined;
      conn.client = new RemoteRuntimeClient({
        runtimeId: cfg.id,
        endpoint: new RemoteEndpoint(cfg.endpoint),
        token,
        capabilities: this.#opts.capabilities,
        timeoutMs: this.#opts.timeoutMs,
        onIdentityMismatch: (observed) => this.#onIdentityMismatch(conn, observed),
      });
    } catch (e) {
      conn.setupError = e instanceof ApiError
        ? new ApiError(e.code, `Runtime ${cfg.id}: ${e.message}`)
        : new ApiError("remote_runtime_unavailable", `Runtime ${cfg.id} is misconfigured.`);
    }
    return conn;
  }

  #own(w: WorkerDetail): WorkerDetail {
    return { ...w, runtime_id: this.runtimeId };
  }

  toString(): string {
    return `RemoteRuntimeHandle(${this.runtimeId})`;
  }

  toJSON(): string {
    return this.toString();
  }

  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }
}
