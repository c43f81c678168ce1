/**
 * The Runtime: hosts Workers, runs their turns through profile engines, and
 * records everything as one durable, per-worker, strictly ordered event log.
 * HTTP servers and the Backend's embedded registry entry are thin layers over
 * this class; worker semantics live here only.
 * @module
 */
import {
  type Ack,
  ApiError,
  type CreateWorkerRequest,
  type Diagnostic,
  diagnostic,
  isWorkerId,
  LIFECYCLE_OPERATIONS,
  newWorkerId,
  OPERATIONS,
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
  type RestoreResult,
  type RuntimeSummary,
  TRANSCRIPT_LIMIT_DEFAULT,
  TRANSCRIPT_LIMIT_MAX,
  type TranscriptPage,
  type WorkerCounts,
  type WorkerDetail,
  type WorkerStatus,
  type WorkerSummary,
} from "../shared/mod.ts";
import { BUILTIN_PROFILES, engineFor, type ProfileSpec } from "./config.ts";
import { type Engine, TurnGate } from "./engine.ts";
import type { EventStore, RestoredWorker, WorkerRecord } from "./store.ts";
import {
  MAX_OUTPUT_BYTES_DEFAULT,
  MAX_WORKERS_DEFAULT,
  type RuntimeOptions,
} from "./runtime_options.ts";
import { Subscription, type SubscriptionOptions } from "./subscription.ts";
import { pauseTurn, restoreStopped, resumeTurn } from "./lifecycle.ts";
import { runTurn } from "./turn.ts";
import { WorkerJournal } from "./worker_journal.ts";
import { type ListedWorkers, WorkerListCache } from "./worker_list.ts";
import {
  type AbortReason,
  ackOf,
  detailOf,
  newWorkerState,
  type Pending,
  restoredState,
  storeUnavailable,
  summaryOf,
  type WorkerState,
} from "./worker_state.ts";

/** Hosts workers over one store: the single owner of worker semantics. */
export class Runtime {
  readonly runtimeId: string;
  readonly displayName: string;
  readonly startedAt = new Date().toISOString();
  /** Diagnostics from opening the store (torn lines, interrupted turns). */
  readonly diagnostics: Diagnostic[] = [];
  #store: EventStore;
  readonly #journal: WorkerJournal;
  #profiles: Record<string, ProfileSpec>;
  #defaultProfile: string;
  #engines = new Map<string, Engine>();
  #workers = new Map<string, WorkerState>();
  #requests = new Map<string, Promise<WorkerDetail>>();
  #stopping = false;
  #queueMax: number;
  #maxWorkers: number;
  #maxOutput: number;
  #creating = 0;
  #workspaceRoot?: string;
  readonly #list: WorkerListCache;

  private constructor(opts: RuntimeOptions) {
    this.runtimeId = opts.runtimeId;
    this.displayName = opts.displayName ?? opts.runtimeId;
    this.#store = opts.store;
    this.#journal = new WorkerJournal(opts.store);
    this.#profiles = { ...BUILTIN_PROFILES, ...opts.profiles };
    this.#defaultProfile = opts.defaultProfile ?? "echo";
    this.#queueMax = opts.subscriberQueueMax ?? 10_000;
    this.#maxWorkers = opts.maxWorkers ?? MAX_WORKERS_DEFAULT;
    this.#maxOutput = opts.maxOutputBytes ?? MAX_OUTPUT_BYTES_DEFAULT;
    this.#workspaceRoot = opts.workspaceRoot;
    this.#list = new WorkerListCache(this.runtimeId, this.#workers, this.diagnostics);
  }

  /** Opens the store, restores every worker and repairs turns cut off by a crash. */
  static async open(opts: RuntimeOptions): Promise<Runtime> {
    const rt = new Runtime(opts);
    const { workers, diagnostics } = await rt.#store.open();
    rt.diagnostics.push(...diagnostics);
    for (const w of workers) await rt.#restore(w);
    if (rt.#store.storeState?.().writable === false) rt.#journal.scheduleRetry();
    return rt;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  get storeKind(): string {
    return this.#store.kind;
  }

  /**
   * Start-up diagnostics plus the store's current state: `store_unavailable`
   * when writes fail (a start on a full disk serves reads and says so here).
   */
  runtimeDiagnostics(): Diagnostic[] {
    const store = this.#journal.storeDiagnostic(this.#workers.values());
    return store ? [...this.diagnostics, store] : [...this.diagnostics];
  }

  summary(): RuntimeSummary {
    return {
      runtime_id: this.runtimeId,
      display_name: this.displayName,
      status: this.#stopping ? "stopping" : "running",
      protocol: { name: PROTOCOL_NAME, version: PROTOCOL_VERSION },
      capabilities: Object.fromEntries(
        [...OPERATIONS, ...LIFECYCLE_OPERATIONS].map((op) => [op, true]),
      ) as RuntimeSummary["capabilities"],
      profiles: Object.keys(this.#profiles).sort(),
      worker_count: this.#workers.size,
      worker_counts: this.workerCounts(),
      os: Deno.build.os,
      arch: Deno.build.arch,
      started_at: this.startedAt,
    };
  }

  /** Every worker (sorted by id, i.e. creation order), or only those with `status`. */
  listWorkers(status?: WorkerStatus): WorkerSummary[] {
    return [...this.#workers.values()].filter((w) => !status || w.status === status)
      .map((w) => summaryOf(this.runtimeId, w))
      .sort((a, b) => a.worker_id < b.worker_id ? -1 : 1);
  }

  /** `listWorkers` as the `{workers, diagnostics}` JSON text and its version (ETag). */
  listWorkersJson(status?: WorkerStatus): ListedWorkers {
    return this.#list.list(status);
  }

  /** Workers per status; the same states `listWorkers(status)` filters on. */
  workerCounts(): WorkerCounts {
    const counts: WorkerCounts = { idle: 0, busy: 0, paused: 0, stopped: 0 };
    for (const w of this.#workers.values()) counts[w.status]++;
    return counts;
  }

  getWorker(workerId: string): WorkerDetail {
    return detailOf(this.runtimeId, this.#get(workerId));
  }

  /** Creates a worker; a repeated `request_id` returns the worker the first call made. */
  createWorker(req: CreateWorkerRequest = {}): Promise<WorkerDetail> {
    // Every failure is a rejection, never a synchronous throw.
    if (this.#stopping) {
      return Promise.reject(new ApiError("runtime_stopping", "The runtime is shutting down."));
    }
    const profile = req.profile ?? this.#defaultProfile;
    if (!this.#profiles[profile]) {
      return Promise.reject(
        new ApiError("unknown_profile", `Profile "${profile}" is not defined on this runtime.`),
      );
    }
    if (req.request_id !== undefined) {
      const prior = this.#requests.get(req.request_id);
      if (prior) return prior.then((d) => this.getWorker(d.worker_id));
    }
    if (this.#workers.size + this.#creating >= this.#maxWorkers) {
      return Promise.reject(
        new ApiError(
          "runtime_at_capacity",
          `This runtime holds its maximum of ${this.#maxWorkers} workers.`,
        ),
      );
    }
    if (req.request_id !== undefined) {
      const p = this.#create(profile, req);
      this.#requests.set(req.request_id, p);
      p.catch(() => this.#requests.delete(req.request_id!));
      return p;
    }
    return this.#create(profile, req);
  }

  async #create(profile: string, req: CreateWorkerRequest): Promise<WorkerDetail> {
    const workerId = newWorkerId();
    const now = new Date().toISOString();
    const record: WorkerRecord = {
      worker_id: workerId,
      profile,
      display_name: req.display_name ?? `${profile} worker`,
      created_at: now,
      ...(req.request_id !== undefined ? { request_id: req.request_id } : {}),
    };
    this.#creating++;
    try {
      await this.#store.createWorker(record);
    } finally {
      this.#creating--;
    }
    const w = newWorkerState(record, now);
    this.#workers.set(workerId, w);
    const created: Pending[] = [
      ["worker.created", { profile, display_name: record.display_name }],
      ["worker.status", { status: "idle" }],
    ];
    if (req.input !== undefined) {
      // The first instruction: created and its turn started in one append (all or nothing).
      if (await this.#startTurn(w, req.input, created)) return detailOf(this.runtimeId, w);
    }
    // The input (if any) was not accepted when this append is reached after a failure.
    const ok = req.input === undefined && await this.#journal.append(w, created);
    if (!ok) {
      // The record exists but its log could not be started: the worker is
      // listed, takes reads, and records its creation on the next input.
      this.#journal.defer(w, [
        ["worker.created", { profile, display_name: record.display_name }],
        ["worker.status", { status: "idle" }],
      ]);
      throw storeUnavailable(w);
    }
    return detailOf(this.runtimeId, w);
  }

  /**
   * Starts a turn with `text`; rejects with `worker_busy` rather than queueing,
   * and with 507 `store_unavailable` (never `worker_busy`) while the worker's
   * log cannot be written: the input is then not accepted and has no seq.
   */
  async input(workerId: string, text: string): Promise<Ack> {
    this.#assertRunning();
    const w = this.#get(workerId);
    if (w.status === "stopped") {
      throw new ApiError("worker_stopped", `Worker ${workerId} is stopped.`);
    }
    if (w.storeError !== null || w.deferred.length > 0) {
      // Never `worker_busy` here: a turn the store failed is still ending.
      if (w.status === "busy" || w.status === "paused" || !(await this.#journal.recover(w))) {
        throw storeUnavailable(w);
      }
      this.#assertRunning();
      if ((w.status as WorkerStatus) === "stopped") {
        throw new ApiError("worker_stopped", `Worker ${workerId} is stopped.`);
      }
    }
    if (w.status === "busy" || w.status === "paused") {
      throw new ApiError("worker_busy", `Worker ${workerId} is busy with a turn.`);
    }
    const accepted = w.lastSeq + 1;
    if (!(await this.#startTurn(w, text, []))) throw storeUnavailable(w);
    return { worker_id: workerId, status: w.status, seq: accepted };
  }

  /**
   * Records `before`, the input and its turn's start in one append (completely or not at
   * all), then runs the turn. False when the store refused the append.
   */
  async #startTurn(w: WorkerState, text: string, before: Pending[]): Promise<boolean> {
    w.status = "busy";
    const turn = w.turnCount + 1;
    const accepted = w.lastSeq + 1 + before.length;
    const ok = await this.#journal.append(w, [
      ...before,
      ["input.accepted", { text }],
      ["worker.status", { status: "busy" }],
      ["turn.started", { turn }],
    ]);
    if (!ok) {
      if (w.status === "busy") w.status = "idle";
      return false;
    }
    w.turnCount = turn;
    const abort = new AbortController();
    const gate = new TurnGate();
    w.turn = {
      abort,
      gate,
      number: turn,
      done: runTurn(w, { turn, text, signal: abort.signal, acceptedSeq: accepted, gate }, {
        engine: this.#engineFor(w.record.profile),
        maxOutput: (this.#profiles[w.record.profile] as { max_output_bytes?: number } | undefined)
          ?.max_output_bytes ?? this.#maxOutput,
        journal: this.#journal,
      }),
    };
    return true;
  }

  /**
   * Holds the running turn (`paused`, `turn.paused`). Idempotent while paused; 409
   * `worker_not_busy` without a turn; 501 when the worker's engine cannot pause.
   */
  pause(workerId: string): Promise<Ack> {
    const w = this.#get(workerId);
    this.#assertPausable(w);
    return pauseTurn(w, this.#journal);
  }

  /** Continues a paused turn (`turn.resumed`). Idempotent while busy; 409 otherwise. */
  resume(workerId: string): Promise<Ack> {
    const w = this.#get(workerId);
    this.#assertPausable(w);
    return resumeTurn(w, this.#journal);
  }

  /**
   * Reopens a stopped worker as idle (`worker.restored`); seq continues. With `dryRun`
   * only checks: 409 `worker_not_stopped`, or 409 `profile_not_found` when its profile
   * is no longer in this runtime's config.
   */
  restore(workerId: string, dryRun = false): Promise<RestoreResult> {
    this.#assertRunning();
    const w = this.#get(workerId);
    return restoreStopped(w, this.#profiles[w.record.profile] !== undefined, dryRun, this.#journal);
  }

  /** Renames a worker (any status); recorded as `worker.renamed` so it survives restarts. */
  async rename(workerId: string, displayName: string): Promise<WorkerDetail> {
    this.#assertRunning();
    const w = this.#get(workerId);
    if (w.storeError !== null) throw storeUnavailable(w);
    if (!(await this.#journal.append(w, [["worker.renamed", { display_name: displayName }]]))) {
      throw storeUnavailable(w);
    }
    w.record = { ...w.record, display_name: displayName };
    return detailOf(this.runtimeId, w);
  }

  /** Removes a stopped worker and its log; 409 `worker_not_stopped` otherwise. */
  async deleteWorker(workerId: string): Promise<{ worker_id: string }> {
    this.#assertRunning();
    const w = this.#get(workerId);
    await w.tail;
    if (w.status !== "stopped" || w.turn) {
      throw new ApiError(
        "worker_not_stopped",
        `Worker ${workerId} is ${w.status}; stop it before deleting it.`,
      );
    }
    await this.#store.deleteWorker(workerId);
    this.#workers.delete(workerId);
    this.#journal.forget(w);
    if (w.record.request_id !== undefined) this.#requests.delete(w.record.request_id);
    for (const s of [...w.subscribers]) {
      s.close({ code: "worker_not_found", message: `Worker ${workerId} was deleted.` });
    }
    return { worker_id: workerId };
  }

  #assertPausable(w: WorkerState): void {
    if (this.#engineFor(w.record.profile).features?.pause === false) {
      throw new ApiError(
        "unsupported_operation",
        `Profile "${w.record.profile}" runs an engine that cannot pause.`,
      );
    }
  }

  /** Aborts the running turn; the worker is idle and usable again. No-op when idle. */
  async cancel(workerId: string): Promise<Ack> {
    const w = this.#get(workerId);
    await w.tail; // an input being accepted starts its turn first
    if (w.turn) {
      const t = w.turn;
      t.abort.abort("cancel" satisfies AbortReason);
      await t.done;
    }
    await w.tail;
    return ackOf(w);
  }

  /**
   * Ends the worker for good, cancelling a running turn first. Idempotent.
   * Works while the store refuses writes: the worker is stopped at once and
   * its stop is recorded once a write succeeds again.
   */
  async stop(workerId: string): Promise<Ack> {
    const w = this.#get(workerId);
    await w.tail; // an input being accepted starts its turn first
    if (w.status !== "stopped") {
      w.status = "stopped";
      if (w.turn) {
        const t = w.turn;
        t.abort.abort("stop" satisfies AbortReason);
        await t.done;
      }
      await this.#journal.recordOrDefer(w, [["worker.status", { status: "stopped" }], [
        "worker.stopped",
        {},
      ]]);
    }
    await w.tail;
    return ackOf(w);
  }

  /** A page of the persisted log: events with `seq > after`. */
  async transcript(
    workerId: string,
    after = 0,
    limit = TRANSCRIPT_LIMIT_DEFAULT,
  ): Promise<TranscriptPage> {
    const w = this.#get(workerId);
    limit = Math.max(1, Math.min(limit, TRANSCRIPT_LIMIT_MAX));
    const upTo = w.publishedSeq;
    const entries = after >= upTo
      ? []
      : (await this.#store.read(workerId, after, limit)).filter((e) => e.seq <= upTo);
    return { entries, next_after: entries.length ? entries[entries.length - 1].seq : after };
  }

  /** Replays the log from `after`, then follows live events, with no gap or duplicate. */
  subscribe(workerId: string, after = 0, opts: SubscriptionOptions = {}): Subscription {
    const w = this.#get(workerId);
    if (this.#stopping) throw new ApiError("runtime_stopping", "The runtime is shutting down.");
    const sub = new Subscription({
      after,
      queueMax: opts.queueMax ?? this.#queueMax,
      read: (a, n) => this.#store.read(workerId, a, n),
      publishedSeq: () => w.publishedSeq,
      onClose: () => w.subscribers.delete(sub),
    });
    w.subscribers.add(sub);
    return sub;
  }

  /** Stops accepting work, cancels running turns, closes streams and flushes the store. */
  async shutdown(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#journal.stop();
    const running = [...this.#workers.values()].filter((w) => w.turn);
    for (const w of running) w.turn!.abort.abort("shutdown" satisfies AbortReason);
    await Promise.all(running.map((w) => w.turn?.done));
    // One last try at what waited for the store (turn ends after a full disk).
    await Promise.all([...this.#workers.values()].map((w) => this.#journal.recover(w)));
    await Promise.all([...this.#workers.values()].map((w) => w.tail));
    for (const w of this.#workers.values()) {
      for (const s of [...w.subscribers]) {
        s.close({ code: "runtime_stopping", message: "The runtime is shutting down." });
      }
    }
    await this.#store.flush();
    await this.#store.close();
  }

  // --- internals ---

  #assertRunning() {
    if (this.#stopping) throw new ApiError("runtime_stopping", "The runtime is shutting down.");
  }

  #get(workerId: string): WorkerState {
    if (!isWorkerId(workerId)) {
      throw new ApiError("invalid_id", "Worker ids are UUIDv7 strings generated by the runtime.");
    }
    const w = this.#workers.get(workerId);
    if (!w) throw new ApiError("worker_not_found", `Worker ${workerId} does not exist.`);
    return w;
  }

  #engineFor(profile: string): Engine {
    let e = this.#engines.get(profile);
    if (!e) {
      e = engineFor(this.#profiles[profile] ?? { engine: "echo" }, {
        workspaceRoot: this.#workspaceRoot,
      });
      this.#engines.set(profile, e);
    }
    return e;
  }

  async #restore(restored: RestoredWorker): Promise<void> {
    const { w, repair } = restoredState(restored);
    const { record } = restored;
    this.#workers.set(record.worker_id, w);
    if (record.request_id !== undefined) {
      this.#requests.set(record.request_id, Promise.resolve(detailOf(this.runtimeId, w)));
    }
    if (repair) {
      // On a full disk the repair waits for the next successful write; the start goes on.
      await this.#journal.recordOrDefer(w, repair);
      this.diagnostics.push(diagnostic(
        "turn_interrupted_by_restart",
        `Worker ${record.worker_id} was busy when the runtime stopped; its turn was marked failed.`,
        "warning",
      ));
    }
  }
}
